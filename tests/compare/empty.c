/* Allocates nothing: what heaptrack reports for it is heaptrack's own baseline
 * (its preload library is C++, so libstdc++'s emergency pool is counted). */
int main(void)
{
	return 0;
}
