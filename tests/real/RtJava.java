// A Java program for the real-program suite (tests/real/run_case.py, case java):
// threads filling a ConcurrentHashMap, string building and sorting. Its output is
// deterministic.
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

public class RtJava {
    public static void main(String[] args) throws Exception {
        ConcurrentHashMap<Integer, String> cache = new ConcurrentHashMap<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            final int base = t * 100000;
            Thread th = new Thread(() -> {
                for (int i = 0; i < 20000; i++)
                    cache.put(base + i, "value-" + (base + i));
            });
            threads.add(th);
            th.start();
        }
        for (Thread th : threads)
            th.join();
        List<String> values = new ArrayList<>(cache.values());
        Collections.sort(values);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < values.size(); i += 1000)
            sb.append(values.get(i).length());
        System.out.println("entries=" + cache.size() + " first=" + values.get(0)
                           + " digest=" + sb.toString().hashCode());
    }
}
