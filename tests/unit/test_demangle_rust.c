/* Unit tests of the Rust demangler (analyzer/demangle_rust.c).
 *
 * The vectors' expected names come from a real demangler, never from heapprof's:
 * demangle_rust/gen.sh builds demangle_rust/vectors.rs with Debian 12's rustc 1.63,
 *   rustc -g -C opt-level=0 -C overflow-checks=off vectors.rs                  (legacy)
 *   rustc -g -C opt-level=0 -C overflow-checks=off -C symbol-mangling-version=v0 vectors.rs
 *   RUSTC_BOOTSTRAP=1 rustc ... -C symbol-mangling-version=v0 unstable.rs
 * takes their symbols with `nm`, and demangles each with Debian's rustc-demangle 0.1.21
 * (librust-rustc-demangle-dev, the crate behind rustc's and std's own backtraces) in its
 * alternate format `{:#}`, the vendor suffix (`.llvm.123`) left out; handmade.txt's
 * symbols, for what rustc does not emit, go through the same. NULL: rustc-demangle
 * rejects the symbol. gen.sh cross-checks each name with binutils 2.40's c++filt,
 * normalised (its `[1a2b]` crate disambiguators, `::h<hash>` and `7: i32` const types
 * removed); they agree but where c++filt is wrong or shows less: `'''` and `'\u{e9}'`
 * for the chars `'\''` and `'é'`, legacy `$uf3$` left undecoded, string and struct
 * constants. Regenerate with `tests/unit/demangle_rust/gen.sh --update`.
 *
 * `test_demangle_rust FILE` checks the lines `SYMBOL<tab>EXPECTED` of FILE instead
 * ("-": rejected), as `gen.sh --all FILE` writes them for every symbol of its programs. */
#define _GNU_SOURCE /* getline */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "demangle_rust.h"

struct vector {
	const char *mangled, *expected; /* expected NULL: rejected */
};

/* BEGIN vectors made by demangle_rust/gen.sh */
// clang-format off
static const struct vector vectors[] = {
	{"_ZN50_$LT$vectors..Square$u20$as$u20$vectors..Shape$GT$4area17h27d548322a971998E", "<vectors::Square as vectors::Shape>::area"},
	{"_ZN60_$LT$vectors..Wrapper$LT$T$GT$$u20$as$u20$vectors..Shape$GT$4area17ha9927d5ef9e3830cE", "<vectors::Wrapper<T> as vectors::Shape>::area"},
	{"_ZN4core3ptr146drop_in_place$LT$std..thread..Builder..spawn_unchecked_$LT$vectors..main..$u7b$$u7b$closure$u7d$$u7d$$C$usize$GT$..$u7b$$u7b$closure$u7d$$u7d$$GT$17h8874aab76cda0b8bE", "core::ptr::drop_in_place<std::thread::Builder::spawn_unchecked_<vectors::main::{{closure}},usize>::{{closure}}>"},
	{"_ZN4core3ptr36drop_in_place$LT$vectors..Square$GT$17he381b75a6d754c44E", "core::ptr::drop_in_place<vectors::Square>"},
	{"_ZN4core3ptr48drop_in_place$LT$vectors..Wrapper$LT$u16$GT$$GT$17hf1fcb50ec6379f23E", "core::ptr::drop_in_place<vectors::Wrapper<u16>>"},
	{"_ZN4core3ptr71drop_in_place$LT$vectors..boxed_fnonce..$u7b$$u7b$closure$u7d$$u7d$$GT$17hb4577047513b5f7aE", "core::ptr::drop_in_place<vectors::boxed_fnonce::{{closure}}>"},
	{"_ZN4core3ptr63drop_in_place$LT$vectors..main..$u7b$$u7b$closure$u7d$$u7d$$GT$17h153d3a7c878d2318E", "core::ptr::drop_in_place<vectors::main::{{closure}}>"},
	{"_ZN7vectors12Arr$LT$_$GT$3len17hbaf16ae1de41169dE", "vectors::Arr<_>::len"},
	{"_ZN7vectors6Holder5first17hf44c30ba8d047d6bE", "vectors::Holder::first"},
	{"_ZN7vectors5Shape4name17h081db7dd2ced63c5E", "vectors::Shape::name"},
	{"_ZN7vectors6Square3new17heef181b9a9c946faE", "vectors::Square::new"},
	{"_ZN7vectors16Wrapper$LT$T$GT$3get17he53d8e0a83feb878E", "vectors::Wrapper<T>::get"},
	{"_ZN7vectors3any17h1750e9830feca1aaE", "vectors::any"},
	{"_ZN7vectors2bb17h019af3e97f0895a3E", "vectors::bb"},
	{"_ZN7vectors12boxed_fnonce17hee75909ebf88a898E", "vectors::boxed_fnonce"},
	{"_ZN7vectors12boxed_fnonce28_$u7b$$u7b$closure$u7d$$u7d$17h4db7bfbb026032bcE", "vectors::boxed_fnonce::{{closure}}"},
	{"_ZN7vectors7cg_bool17h2e1e980b5acf0ee7E", "vectors::cg_bool"},
	{"_ZN7vectors7cg_char17h78ab5190e486626fE", "vectors::cg_char"},
	{"_ZN7vectors6cg_int17h203e96b2728f3ebaE", "vectors::cg_int"},
	{"_ZN7vectors6cg_u6417hd80809590050cbfeE", "vectors::cg_u64"},
	{"_ZN7vectors7generic17h00a2e0bf9a7926a1E", "vectors::generic"},
	{"_ZN7vectors15generic_closure17h431c0619b97f9fe1E", "vectors::generic_closure"},
	{"_ZN7vectors15generic_closure28_$u7b$$u7b$closure$u7d$$u7d$17h9061b4383c2e7027E", "vectors::generic_closure::{{closure}}"},
	{"_ZN7vectors13gr$uf6$$udf$e17hbed463860c41c953E", "vectors::größe"},
	{"_ZN7vectors4main17h5dbfc77ed41277caE", "vectors::main"},
	{"_ZN7vectors4main3cfn17h59b6764a73626f55E", "vectors::main::cfn"},
	{"_ZN7vectors4main2hr17he0fc6f1efdf3de1bE", "vectors::main::hr"},
	{"_ZN7vectors4main4ucfn17h3a3bae77aebbe023E", "vectors::main::ucfn"},
	{"_ZN7vectors4main3ufn17hed581dbb481d2ee8E", "vectors::main::ufn"},
	{"_ZN7vectors4main28_$u7b$$u7b$closure$u7d$$u7d$17h18ca63d681b5c442E", "vectors::main::{{closure}}"},
	{"_ZN7vectors10m$uf3$dulo10a$uf1$adir17h3995480f465a124eE", "vectors::módulo::añadir"},
	{"_ZN7vectors5outer5inner8function17h60f7b5f240908699E", "vectors::outer::inner::function"},
	{"_ZN7vectors7use_dyn17h7fcfa23a29eacac2E", "vectors::use_dyn"},
	{"_ZN7vectors7use_dyn28_$u7b$$u7b$closure$u7d$$u7d$17h99c86e4e8c406067E", "vectors::use_dyn::{{closure}}"},
	{"_ZN7vectors11use_hashmap17h7e8f946cb95ced0cE", "vectors::use_hashmap"},
	{"_ZN7vectors8use_iter17ha9e35637145d2023E", "vectors::use_iter"},
	{"_ZN7vectors12with_closure17hb278be87cbb01264E", "vectors::with_closure"},
	{"_ZN7vectors12with_closure28_$u7b$$u7b$closure$u7d$$u7d$17h9764cda63bcaffb1E", "vectors::with_closure::{{closure}}"},
	{"_ZN100_$LT$alloc..string..String$u20$as$u20$core..ops..index..Index$LT$core..ops..range..RangeFull$GT$$GT$5index17h47ef670b32100242E", "<alloc::string::String as core::ops::index::Index<core::ops::range::RangeFull>>::index"},
	{"_ZN102_$LT$core..iter..adapters..map..Map$LT$I$C$F$GT$$u20$as$u20$core..iter..traits..iterator..Iterator$GT$4fold17h64f124da4e87609aE", "<core::iter::adapters::map::Map<I,F> as core::iter::traits::iterator::Iterator>::fold"},
	{"_ZN115_$LT$core..panic..unwind_safe..AssertUnwindSafe$LT$F$GT$$u20$as$u20$core..ops..function..FnOnce$LT$$LP$$RP$$GT$$GT$9call_once17h84ce84f95e56c698E", "<core::panic::unwind_safe::AssertUnwindSafe<F> as core::ops::function::FnOnce<()>>::call_once"},
	{"_ZN12panic_unwind5dwarf2eh20read_encoded_pointer17h2a54419ccfa1d320E.llvm.16159844760554946847", "panic_unwind::dwarf::eh::read_encoded_pointer"},
	{"_ZN12panic_unwind8real_imp14find_eh_action28_$u7b$$u7b$closure$u7d$$u7d$17h385b3ff300586ab7E", "panic_unwind::real_imp::find_eh_action::{{closure}}"},
	{"_ZN42_$LT$$RF$T$u20$as$u20$core..fmt..Debug$GT$3fmt17h059c8720a3d42a74E", "<&T as core::fmt::Debug>::fmt"},
	{"_ZN4core3ptr7mut_ptr31_$LT$impl$u20$$BP$mut$u20$T$GT$12wrapping_sub17h26934b9a669c6e05E", "core::ptr::mut_ptr::<impl *mut T>::wrapping_sub"},
	{"_RNSNvYNCINvMNtCsdyIG5SqMl5y_3std6threadNtBa_7Builder16spawn_unchecked_NCNvCs9M35MkJyWDw_7vectors4mains2_0jEs_0INtNtNtCs6IL9ONYDOZW_4core3ops8function6FnOnceuE9call_once6vtableB1a_", "<<std::thread::Builder>::spawn_unchecked_<vectors::main::{closure#4}, usize>::{closure#1} as core::ops::function::FnOnce<()>>::call_once::{shim:vtable#0}"},
	{"_RNvMNtNtCs6IL9ONYDOZW_4core3mem13manually_dropINtB2_12ManuallyDropINtNtNtB6_5panic11unwind_safe16AssertUnwindSafeNCNCINvMNtCsdyIG5SqMl5y_3std6threadNtB1V_7Builder16spawn_unchecked_NCNvCs9M35MkJyWDw_7vectors4mains2_0jEs_00EE4takeB2W_", "<core::mem::manually_drop::ManuallyDrop<core::panic::unwind_safe::AssertUnwindSafe<<std::thread::Builder>::spawn_unchecked_<vectors::main::{closure#4}, usize>::{closure#1}::{closure#0}>>>::take"},
	{"_RNvMNtNtCs6IL9ONYDOZW_4core3mem13manually_dropINtB2_12ManuallyDropNCNvCs9M35MkJyWDw_7vectors4mains1_0E4takeB16_", "<core::mem::manually_drop::ManuallyDrop<vectors::main::{closure#3}>>::take"},
	{"_RINvMNtCs6IL9ONYDOZW_4core6optionINtB3_6OptionNtNtCsihNoVIYWwLU_5alloc6string6StringE3mapNtNtNtBM_3ffi5c_str7CStringNCINvMNtCsdyIG5SqMl5y_3std6threadNtB1W_7Builder16spawn_unchecked_NCNvCs9M35MkJyWDw_7vectors4mains2_0jE0EB2X_", "<core::option::Option<alloc::string::String>>::map::<alloc::ffi::c_str::CString, <std::thread::Builder>::spawn_unchecked_<vectors::main::{closure#4}, usize>::{closure#0}>"},
	{"_RNvXsl_NtNtCs6IL9ONYDOZW_4core5panic11unwind_safeINtB5_16AssertUnwindSafeNCNCINvMNtCsdyIG5SqMl5y_3std6threadNtB1h_7Builder16spawn_unchecked_NCNvCs9M35MkJyWDw_7vectors4mains2_0jEs_00EINtNtNtB9_3ops8function6FnOnceuE9call_onceB2i_", "<core::panic::unwind_safe::AssertUnwindSafe<<std::thread::Builder>::spawn_unchecked_<vectors::main::{closure#4}, usize>::{closure#1}::{closure#0}> as core::ops::function::FnOnce<()>>::call_once"},
	{"_RINvMNtCsdyIG5SqMl5y_3std6threadNtB3_7Builder5spawnNCNvCs9M35MkJyWDw_7vectors4mains2_0jEBR_", "<std::thread::Builder>::spawn::<vectors::main::{closure#4}, usize>"},
	{"_RINvMNtCsdyIG5SqMl5y_3std6threadNtB3_7Builder15spawn_uncheckedNCNvCs9M35MkJyWDw_7vectors4mains2_0jEB12_", "<std::thread::Builder>::spawn_unchecked::<vectors::main::{closure#4}, usize>"},
	{"_RINvMNtCsdyIG5SqMl5y_3std6threadNtB3_7Builder16spawn_unchecked_NCNvCs9M35MkJyWDw_7vectors4mains2_0jEB13_", "<std::thread::Builder>::spawn_unchecked_::<vectors::main::{closure#4}, usize>"},
	{"_RNCINvMNtCsdyIG5SqMl5y_3std6threadNtB5_7Builder16spawn_unchecked_NCNvCs9M35MkJyWDw_7vectors4mains2_0jE0B15_", "<std::thread::Builder>::spawn_unchecked_::<vectors::main::{closure#4}, usize>::{closure#0}"},
	{"_RNCINvMNtCsdyIG5SqMl5y_3std6threadNtB5_7Builder16spawn_unchecked_NCNvCs9M35MkJyWDw_7vectors4mains2_0jEs_0B15_", "<std::thread::Builder>::spawn_unchecked_::<vectors::main::{closure#4}, usize>::{closure#1}"},
	{"_RNCNCINvMNtCsdyIG5SqMl5y_3std6threadNtB7_7Builder16spawn_unchecked_NCNvCs9M35MkJyWDw_7vectors4mains2_0jEs_00B17_", "<std::thread::Builder>::spawn_unchecked_::<vectors::main::{closure#4}, usize>::{closure#1}::{closure#0}"},
	{"_RNvMs2_Cs9M35MkJyWDw_7vectorsINtB5_3ArrKj0_E3lenB5_", "<vectors::Arr<0>>::len"},
	{"_RNvMs2_Cs9M35MkJyWDw_7vectorsINtB5_3ArrKj4_E3lenB5_", "<vectors::Arr<4>>::len"},
	{"_RNvMs3_Cs9M35MkJyWDw_7vectorsNtB5_6Holder5first", "<vectors::Holder>::first"},
	{"_RNvXCs9M35MkJyWDw_7vectorsNtB2_6SquareNtB2_5Shape4area", "<vectors::Square as vectors::Shape>::area"},
	{"_RNvYNtCs9M35MkJyWDw_7vectors6SquareNtB4_5Shape4nameB4_", "<vectors::Square as vectors::Shape>::name"},
	{"_RNvMs0_Cs9M35MkJyWDw_7vectorsNtB5_6Square3new", "<vectors::Square>::new"},
	{"_RNvYINtCs9M35MkJyWDw_7vectors7WrapperReENtB5_5Shape4nameB5_", "<vectors::Wrapper<&str> as vectors::Shape>::name"},
	{"_RNvXs_Cs9M35MkJyWDw_7vectorsINtB4_7WrappertENtB4_5Shape4areaB4_", "<vectors::Wrapper<u16> as vectors::Shape>::area"},
	{"_RNvYINtCs9M35MkJyWDw_7vectors7WrappertENtB5_5Shape4nameB5_", "<vectors::Wrapper<u16> as vectors::Shape>::name"},
	{"_RNvXs_Cs9M35MkJyWDw_7vectorsINtB4_7WrapperhENtB4_5Shape4areaB4_", "<vectors::Wrapper<u8> as vectors::Shape>::area"},
	{"_RNvMs1_Cs9M35MkJyWDw_7vectorsINtB5_7WrapperjE3getB5_", "<vectors::Wrapper<usize>>::get"},
	{"_RNSNvYNCNvCs9M35MkJyWDw_7vectors12boxed_fnonce0INtNtNtCs6IL9ONYDOZW_4core3ops8function6FnOnceuE9call_once6vtableB8_", "<vectors::boxed_fnonce::{closure#0} as core::ops::function::FnOnce<()>>::call_once::{shim:vtable#0}"},
	{"_RNvYNCNvCs9M35MkJyWDw_7vectors4main0INtNtNtCs6IL9ONYDOZW_4core3ops8function6FnOnceThEE9call_onceB6_", "<vectors::main::{closure#0} as core::ops::function::FnOnce<(u8,)>>::call_once"},
	{"_RNSNvYNCNvCs9M35MkJyWDw_7vectors4main0INtNtNtCs6IL9ONYDOZW_4core3ops8function6FnOnceThEE9call_once6vtableB8_", "<vectors::main::{closure#0} as core::ops::function::FnOnce<(u8,)>>::call_once::{shim:vtable#0}"},
	{"_RNvYNCNvCs9M35MkJyWDw_7vectors4mains_0INtNtNtCs6IL9ONYDOZW_4core3ops8function6FnOnceTReEE9call_onceB6_", "<vectors::main::{closure#1} as core::ops::function::FnOnce<(&str,)>>::call_once"},
	{"_RNSNvYNCNvCs9M35MkJyWDw_7vectors4mains_0INtNtNtCs6IL9ONYDOZW_4core3ops8function6FnOnceTReEE9call_once6vtableB8_", "<vectors::main::{closure#1} as core::ops::function::FnOnce<(&str,)>>::call_once::{shim:vtable#0}"},
	{"_RINvNtCs6IL9ONYDOZW_4core3mem6forgetNCINvCs9M35MkJyWDw_7vectors15generic_closuremE0EBD_", "core::mem::forget::<vectors::generic_closure<u32>::{closure#0}>"},
	{"_RINvNtCs6IL9ONYDOZW_4core3mem6forgetNCINvCs9M35MkJyWDw_7vectors15generic_closurehE0EBD_", "core::mem::forget::<vectors::generic_closure<u8>::{closure#0}>"},
	{"_RINvNtCs6IL9ONYDOZW_4core3ptr13drop_in_placeNCINvMNtCsdyIG5SqMl5y_3std6threadNtBM_7Builder16spawn_unchecked_NCNvCs9M35MkJyWDw_7vectors4mains2_0jEs_0EB1M_", "core::ptr::drop_in_place::<<std::thread::Builder>::spawn_unchecked_<vectors::main::{closure#4}, usize>::{closure#1}>"},
	{"_RINvNtCs6IL9ONYDOZW_4core3ptr13drop_in_placeNtCs9M35MkJyWDw_7vectors6SquareEBI_", "core::ptr::drop_in_place::<vectors::Square>"},
	{"_RINvNtCs6IL9ONYDOZW_4core3ptr13drop_in_placeINtCs9M35MkJyWDw_7vectors7WrappertEEBJ_", "core::ptr::drop_in_place::<vectors::Wrapper<u16>>"},
	{"_RINvNtCs6IL9ONYDOZW_4core3ptr13drop_in_placeNCNvCs9M35MkJyWDw_7vectors12boxed_fnonce0EBK_", "core::ptr::drop_in_place::<vectors::boxed_fnonce::{closure#0}>"},
	{"_RINvNtCs6IL9ONYDOZW_4core3ptr13drop_in_placeNCNvCs9M35MkJyWDw_7vectors4main0EBK_", "core::ptr::drop_in_place::<vectors::main::{closure#0}>"},
	{"_RINvNtCs6IL9ONYDOZW_4core3ptr13drop_in_placeNCNvCs9M35MkJyWDw_7vectors4mains_0EBK_", "core::ptr::drop_in_place::<vectors::main::{closure#1}>"},
	{"_RINvNtCs6IL9ONYDOZW_4core3ptr4readINtNtNtB4_5panic11unwind_safe16AssertUnwindSafeNCNCINvMNtCsdyIG5SqMl5y_3std6threadNtB1p_7Builder16spawn_unchecked_NCNvCs9M35MkJyWDw_7vectors4mains2_0jEs_00EEB2q_", "core::ptr::read::<core::panic::unwind_safe::AssertUnwindSafe<<std::thread::Builder>::spawn_unchecked_<vectors::main::{closure#4}, usize>::{closure#1}::{closure#0}>>"},
	{"_RINvNtCs6IL9ONYDOZW_4core3ptr4readNCNvCs9M35MkJyWDw_7vectors4mains1_0EBA_", "core::ptr::read::<vectors::main::{closure#3}>"},
	{"_RINvNtCs6IL9ONYDOZW_4core3ptr13read_volatileNCINvCs9M35MkJyWDw_7vectors15generic_closuremE0EBL_", "core::ptr::read_volatile::<vectors::generic_closure<u32>::{closure#0}>"},
	{"_RINvNtCs6IL9ONYDOZW_4core3ptr13read_volatileNCINvCs9M35MkJyWDw_7vectors15generic_closurehE0EBL_", "core::ptr::read_volatile::<vectors::generic_closure<u8>::{closure#0}>"},
	{"_RINvNtCsdyIG5SqMl5y_3std5panic12catch_unwindINtNtNtCs6IL9ONYDOZW_4core5panic11unwind_safe16AssertUnwindSafeNCNCINvMNtB4_6threadNtB1P_7Builder16spawn_unchecked_NCNvCs9M35MkJyWDw_7vectors4mains2_0jEs_00EjEB2B_", "std::panic::catch_unwind::<core::panic::unwind_safe::AssertUnwindSafe<<std::thread::Builder>::spawn_unchecked_<vectors::main::{closure#4}, usize>::{closure#1}::{closure#0}>, usize>"},
	{"_RINvNtCsdyIG5SqMl5y_3std5panic12catch_unwindNCNvCs9M35MkJyWDw_7vectors4mains1_0jEBK_", "std::panic::catch_unwind::<vectors::main::{closure#3}, usize>"},
	{"_RINvNtCsdyIG5SqMl5y_3std9panicking3tryjINtNtNtCs6IL9ONYDOZW_4core5panic11unwind_safe16AssertUnwindSafeNCNCINvMNtB4_6threadNtB1K_7Builder16spawn_unchecked_NCNvCs9M35MkJyWDw_7vectors4mains2_0jEs_00EEB2w_", "std::panicking::try::<usize, core::panic::unwind_safe::AssertUnwindSafe<<std::thread::Builder>::spawn_unchecked_<vectors::main::{closure#4}, usize>::{closure#1}::{closure#0}>>"},
	{"_RINvNvNtCsdyIG5SqMl5y_3std9panicking3try7do_callINtNtNtCs6IL9ONYDOZW_4core5panic11unwind_safe16AssertUnwindSafeNCNCINvMNtB6_6threadNtB1T_7Builder16spawn_unchecked_NCNvCs9M35MkJyWDw_7vectors4mains2_0jEs_00EjEB2F_", "std::panicking::try::do_call::<core::panic::unwind_safe::AssertUnwindSafe<<std::thread::Builder>::spawn_unchecked_<vectors::main::{closure#4}, usize>::{closure#1}::{closure#0}>, usize>"},
	{"_RINvNvNtCsdyIG5SqMl5y_3std9panicking3try7do_callNCNvCs9M35MkJyWDw_7vectors4mains1_0jEBO_", "std::panicking::try::do_call::<vectors::main::{closure#3}, usize>"},
	{"_RINvNvNtCsdyIG5SqMl5y_3std9panicking3try8do_catchINtNtNtCs6IL9ONYDOZW_4core5panic11unwind_safe16AssertUnwindSafeNCNCINvMNtB6_6threadNtB1U_7Builder16spawn_unchecked_NCNvCs9M35MkJyWDw_7vectors4mains2_0jEs_00EjEB2G_", "std::panicking::try::do_catch::<core::panic::unwind_safe::AssertUnwindSafe<<std::thread::Builder>::spawn_unchecked_<vectors::main::{closure#4}, usize>::{closure#1}::{closure#0}>, usize>"},
	{"_RINvNvNtCsdyIG5SqMl5y_3std9panicking3try8do_catchNCNvCs9M35MkJyWDw_7vectors4mains1_0jEBP_", "std::panicking::try::do_catch::<vectors::main::{closure#3}, usize>"},
	{"_RINvNtNtCsdyIG5SqMl5y_3std10sys_common9backtrace28___rust_begin_short_backtraceNCNvCs9M35MkJyWDw_7vectors4mains2_0jEB1j_", "std::sys_common::backtrace::__rust_begin_short_backtrace::<vectors::main::{closure#4}, usize>"},
	{"_RINvNtCsdyIG5SqMl5y_3std6thread5spawnNCNvCs9M35MkJyWDw_7vectors4mains2_0jEBD_", "std::thread::spawn::<vectors::main::{closure#4}, usize>"},
	{"_RINvCs9M35MkJyWDw_7vectors3anyFG0_RL1_hRL0_tEuEB2_", "vectors::any::<for<'a, 'b> fn(&'a u8, &'b u16)>"},
	{"_RINvCs9M35MkJyWDw_7vectors3anyFG_URL0_hEuEB2_", "vectors::any::<for<'a> unsafe fn(&'a u8)>"},
	{"_RINvCs9M35MkJyWDw_7vectors2bbbEB2_", "vectors::bb::<bool>"},
	{"_RINvCs9M35MkJyWDw_7vectors2bbcEB2_", "vectors::bb::<char>"},
	{"_RINvCs9M35MkJyWDw_7vectors2bblEB2_", "vectors::bb::<i32>"},
	{"_RINvCs9M35MkJyWDw_7vectors2bbmEB2_", "vectors::bb::<u32>"},
	{"_RINvCs9M35MkJyWDw_7vectors2bbyEB2_", "vectors::bb::<u64>"},
	{"_RINvCs9M35MkJyWDw_7vectors2bbhEB2_", "vectors::bb::<u8>"},
	{"_RINvCs9M35MkJyWDw_7vectors2bbjEB2_", "vectors::bb::<usize>"},
	{"_RINvCs9M35MkJyWDw_7vectors2bbNCINvB2_15generic_closuremE0EB2_", "vectors::bb::<vectors::generic_closure<u32>::{closure#0}>"},
	{"_RINvCs9M35MkJyWDw_7vectors2bbNCINvB2_15generic_closurehE0EB2_", "vectors::bb::<vectors::generic_closure<u8>::{closure#0}>"},
	{"_RNvCs9M35MkJyWDw_7vectors12boxed_fnonce", "vectors::boxed_fnonce"},
	{"_RNCNvCs9M35MkJyWDw_7vectors12boxed_fnonce0B3_", "vectors::boxed_fnonce::{closure#0}"},
	{"_RINvCs9M35MkJyWDw_7vectors7cg_boolKb0_EB2_", "vectors::cg_bool::<false>"},
	{"_RINvCs9M35MkJyWDw_7vectors7cg_boolKb1_EB2_", "vectors::cg_bool::<true>"},
	{"_RINvCs9M35MkJyWDw_7vectors7cg_charKc27_EB2_", "vectors::cg_char::<'\\''>"},
	{"_RINvCs9M35MkJyWDw_7vectors7cg_charKca_EB2_", "vectors::cg_char::<'\\n'>"},
	{"_RINvCs9M35MkJyWDw_7vectors7cg_charKc78_EB2_", "vectors::cg_char::<'x'>"},
	{"_RINvCs9M35MkJyWDw_7vectors7cg_charKce9_EB2_", "vectors::cg_char::<'é'>"},
	{"_RINvCs9M35MkJyWDw_7vectors6cg_intKln2a_EB2_", "vectors::cg_int::<-42>"},
	{"_RINvCs9M35MkJyWDw_7vectors6cg_intKl7_EB2_", "vectors::cg_int::<7>"},
	{"_RINvCs9M35MkJyWDw_7vectors6cg_u64Kyffffffffffffffff_EB2_", "vectors::cg_u64::<18446744073709551615>"},
	{"_RINvCs9M35MkJyWDw_7vectors7genericRStEB2_", "vectors::generic::<&[u16]>"},
	{"_RINvCs9M35MkJyWDw_7vectors7genericRINtNtCsihNoVIYWwLU_5alloc5boxed3BoxDNtNtCs6IL9ONYDOZW_4core3fmt5DebugNtNtB1b_6marker4SendNtB1G_4SyncEL_EEB2_", "vectors::generic::<&alloc::boxed::Box<dyn core::fmt::Debug + core::marker::Send + core::marker::Sync>>"},
	{"_RINvCs9M35MkJyWDw_7vectors7genericRDNtNtCs6IL9ONYDOZW_4core3fmt5DebugEL_EB2_", "vectors::generic::<&dyn core::fmt::Debug>"},
	{"_RINvCs9M35MkJyWDw_7vectors7genericQhEB2_", "vectors::generic::<&mut u8>"},
	{"_RINvCs9M35MkJyWDw_7vectors7genericReEB2_", "vectors::generic::<&str>"},
	{"_RINvCs9M35MkJyWDw_7vectors7genericuEB2_", "vectors::generic::<()>"},
	{"_RINvCs9M35MkJyWDw_7vectors7genericTlEEB2_", "vectors::generic::<(i32,)>"},
	{"_RINvCs9M35MkJyWDw_7vectors7genericThdReEEB2_", "vectors::generic::<(u8, f64, &str)>"},
	{"_RINvCs9M35MkJyWDw_7vectors7genericPDINtNtNtCs6IL9ONYDOZW_4core3ops8function2FnThEEp6OutputhEL_EB2_", "vectors::generic::<*const dyn core::ops::function::Fn<(u8,), Output = u8>>"},
	{"_RINvCs9M35MkJyWDw_7vectors7genericPDG_INtNtNtCs6IL9ONYDOZW_4core3ops8function2FnTRL0_eEEp6OutputRL0_eEL_EB2_", "vectors::generic::<*const dyn for<'a> core::ops::function::Fn<(&'a str,), Output = &'a str>>"},
	{"_RINvCs9M35MkJyWDw_7vectors7genericPtEB2_", "vectors::generic::<*const u16>"},
	{"_RINvCs9M35MkJyWDw_7vectors7genericOmEB2_", "vectors::generic::<*mut u32>"},
	{"_RINvCs9M35MkJyWDw_7vectors7genericAhj4_EB2_", "vectors::generic::<[u8; 4]>"},
	{"_RINvCs9M35MkJyWDw_7vectors7genericNtNtCsihNoVIYWwLU_5alloc6string6StringEB2_", "vectors::generic::<alloc::string::String>"},
	{"_RINvCs9M35MkJyWDw_7vectors7genericINtNtCsihNoVIYWwLU_5alloc3vec3VecmEEB2_", "vectors::generic::<alloc::vec::Vec<u32>>"},
	{"_RINvCs9M35MkJyWDw_7vectors7genericbEB2_", "vectors::generic::<bool>"},
	{"_RINvCs9M35MkJyWDw_7vectors7genericcEB2_", "vectors::generic::<char>"},
	{"_RINvCs9M35MkJyWDw_7vectors7genericINtNtCs6IL9ONYDOZW_4core6option6OptionINtNtCsihNoVIYWwLU_5alloc5boxed3BoxhEEEB2_", "vectors::generic::<core::option::Option<alloc::boxed::Box<u8>>>"},
	{"_RINvCs9M35MkJyWDw_7vectors7genericFKClElEB2_", "vectors::generic::<extern \"C\" fn(i32) -> i32>"},
	{"_RINvCs9M35MkJyWDw_7vectors7genericfEB2_", "vectors::generic::<f32>"},
	{"_RINvCs9M35MkJyWDw_7vectors7genericdEB2_", "vectors::generic::<f64>"},
	{"_RINvCs9M35MkJyWDw_7vectors7genericFEuEB2_", "vectors::generic::<fn()>"},
	{"_RINvCs9M35MkJyWDw_7vectors7genericFhEjEB2_", "vectors::generic::<fn(u8) -> usize>"},
	{"_RINvCs9M35MkJyWDw_7vectors7genericnEB2_", "vectors::generic::<i128>"},
	{"_RINvCs9M35MkJyWDw_7vectors7genericsEB2_", "vectors::generic::<i16>"},
	{"_RINvCs9M35MkJyWDw_7vectors7genericlEB2_", "vectors::generic::<i32>"},
	{"_RINvCs9M35MkJyWDw_7vectors7genericxEB2_", "vectors::generic::<i64>"},
	{"_RINvCs9M35MkJyWDw_7vectors7genericaEB2_", "vectors::generic::<i8>"},
	{"_RINvCs9M35MkJyWDw_7vectors7genericiEB2_", "vectors::generic::<isize>"},
	{"_RINvCs9M35MkJyWDw_7vectors7genericoEB2_", "vectors::generic::<u128>"},
	{"_RINvCs9M35MkJyWDw_7vectors7generictEB2_", "vectors::generic::<u16>"},
	{"_RINvCs9M35MkJyWDw_7vectors7genericmEB2_", "vectors::generic::<u32>"},
	{"_RINvCs9M35MkJyWDw_7vectors7genericyEB2_", "vectors::generic::<u64>"},
	{"_RINvCs9M35MkJyWDw_7vectors7generichEB2_", "vectors::generic::<u8>"},
	{"_RINvCs9M35MkJyWDw_7vectors7genericFUKCEuEB2_", "vectors::generic::<unsafe extern \"C\" fn()>"},
	{"_RINvCs9M35MkJyWDw_7vectors7genericjEB2_", "vectors::generic::<usize>"},
	{"_RINvCs9M35MkJyWDw_7vectors15generic_closuremEB2_", "vectors::generic_closure::<u32>"},
	{"_RNCINvCs9M35MkJyWDw_7vectors15generic_closuremE0B4_", "vectors::generic_closure::<u32>::{closure#0}"},
	{"_RINvCs9M35MkJyWDw_7vectors15generic_closurehEB2_", "vectors::generic_closure::<u8>"},
	{"_RNCINvCs9M35MkJyWDw_7vectors15generic_closurehE0B4_", "vectors::generic_closure::<u8>::{closure#0}"},
	{"_RNvCs9M35MkJyWDw_7vectorsu9gre_6ka8i", "vectors::größe"},
	{"_RNvCs9M35MkJyWDw_7vectors4main", "vectors::main"},
	{"_RNvNvCs9M35MkJyWDw_7vectors4main3cfn", "vectors::main::cfn"},
	{"_RNvNvCs9M35MkJyWDw_7vectors4main2hr", "vectors::main::hr"},
	{"_RNvNvCs9M35MkJyWDw_7vectors4main4ucfn", "vectors::main::ucfn"},
	{"_RNvNvCs9M35MkJyWDw_7vectors4main3ufn", "vectors::main::ufn"},
	{"_RNCNvCs9M35MkJyWDw_7vectors4main0B3_", "vectors::main::{closure#0}"},
	{"_RNCNvCs9M35MkJyWDw_7vectors4mains_0B3_", "vectors::main::{closure#1}"},
	{"_RNCNvCs9M35MkJyWDw_7vectors4mains0_0B3_", "vectors::main::{closure#2}"},
	{"_RNCNvCs9M35MkJyWDw_7vectors4mains1_0B3_", "vectors::main::{closure#3}"},
	{"_RNCNvCs9M35MkJyWDw_7vectors4mains2_0B3_", "vectors::main::{closure#4}"},
	{"_RINvNtCs9M35MkJyWDw_7vectorsu9mdulo_0tau9aadir_otahEB4_", "vectors::módulo::añadir::<u8>"},
	{"_RNvNtNtCs9M35MkJyWDw_7vectors5outer5inner8function", "vectors::outer::inner::function"},
	{"_RNvCs9M35MkJyWDw_7vectors7use_dyn", "vectors::use_dyn"},
	{"_RNCNvCs9M35MkJyWDw_7vectors7use_dyn0B3_", "vectors::use_dyn::{closure#0}"},
	{"_RNvCs9M35MkJyWDw_7vectors11use_hashmap", "vectors::use_hashmap"},
	{"_RNvCs9M35MkJyWDw_7vectors8use_iter", "vectors::use_iter"},
	{"_RNvCs9M35MkJyWDw_7vectors12with_closure", "vectors::with_closure"},
	{"_RNCNvCs9M35MkJyWDw_7vectors12with_closure0B3_", "vectors::with_closure::{closure#0}"},
	{"_RNCNvCs9M35MkJyWDw_7vectors12with_closures_0B3_", "vectors::with_closure::{closure#1}"},
	{"_RINvMNtCs6IL9ONYDOZW_4core6optionINtB3_6OptionReE11map_or_elseNtNtCsihNoVIYWwLU_5alloc6string6StringNCNvNtB12_3fmt6format0NvYeNtNtB12_6borrow7ToOwned8to_ownedECs9M35MkJyWDw_7vectors", "<core::option::Option<&str>>::map_or_else::<alloc::string::String, alloc::fmt::format::{closure#0}, <str as alloc::borrow::ToOwned>::to_owned>"},
	{"_RNSNvYNCINvMs5_NtCsaSWUN35JBpm_9hashbrown3rawINtBd_8RawTableTNtNtCsihNoVIYWwLU_5alloc6string6StringINtNtB11_3vec3VecmEEE14reserve_rehashNCINvNtBf_3map11make_hasherBX_BX_B1z_NtNtNtNtCsdyIG5SqMl5y_3std11collections4hash3map11RandomStateE0E0INtNtNtCs6IL9ONYDOZW_4core3ops8function6FnOnceTQINtBd_13RawTableInnerNtNtB11_5alloc6GlobalEjEE9call_once6vtableCs9M35MkJyWDw_7vectors", "<<hashbrown::raw::RawTable<(alloc::string::String, alloc::vec::Vec<u32>)>>::reserve_rehash<hashbrown::map::make_hasher<alloc::string::String, alloc::string::String, alloc::vec::Vec<u32>, std::collections::hash::map::RandomState>::{closure#0}>::{closure#0} as core::ops::function::FnOnce<(&mut hashbrown::raw::RawTableInner<alloc::alloc::Global>, usize)>>::call_once::{shim:vtable#0}"},
	{"_ZN104_$LT$core..iter..sources..from_fn..FromFn$LT$F$GT$$u20$as$u20$core..iter..traits..iterator..Iterator$GT$4next17h5029af7e7bac568fE", "<core::iter::sources::from_fn::FromFn<F> as core::iter::traits::iterator::Iterator>::next"},
	{"_ZN12panic_unwind5dwarf2eh20read_encoded_pointer17h2a54419ccfa1d320E.llvm.16159844760554946847", "panic_unwind::dwarf::eh::read_encoded_pointer"},
	{"_ZN12panic_unwind8real_imp14find_eh_action28_$u7b$$u7b$closure$u7d$$u7d$17h385b3ff300586ab7E", "panic_unwind::real_imp::find_eh_action::{{closure}}"},
	{"_ZN3std2io5impls74_$LT$impl$u20$std..io..Write$u20$for$u20$alloc..vec..Vec$LT$u8$C$A$GT$$GT$14write_vectored17hf3783f93862d9359E", "std::io::impls::<impl std::io::Write for alloc::vec::Vec<u8,A>>::write_vectored"},
	{"_ZN42_$LT$$RF$T$u20$as$u20$core..fmt..Debug$GT$3fmt17h0b862a2d068a2654E", "<&T as core::fmt::Debug>::fmt"},
	{"_ZN45_$LT$$LP$$RP$$u20$as$u20$core..fmt..Debug$GT$3fmt17h792f683c3616934fE.llvm.11502952057138234896", "<() as core::fmt::Debug>::fmt"},
	{"_ZN50_$LT$$BP$mut$u20$T$u20$as$u20$core..fmt..Debug$GT$3fmt17h2a5b17296eb711a0E", "<*mut T as core::fmt::Debug>::fmt"},
	{"_RINvCs1VVoTBn8ZRl_8unstable3anyINtNtCs6IL9ONYDOZW_4core6option6OptionRDNtNtNtNtBy_4iter6traits8iterator8Iteratorp4ItemThtEEL_EEB2_", "unstable::any::<core::option::Option<&dyn core::iter::traits::iterator::Iterator<Item = (u8, u16)>>>"},
	{"_RINvCs1VVoTBn8ZRl_8unstable3anyINtNtCs6IL9ONYDOZW_4core6option6OptionINtNtCsihNoVIYWwLU_5alloc5boxed3BoxDG_INtNtNtBy_3ops8function5FnMutTRL0_ShEEp6OutputIBu_RL0_hENtNtBy_6marker4SendEL_EEEB2_", "unstable::any::<core::option::Option<alloc::boxed::Box<dyn for<'a> core::ops::function::FnMut<(&'a [u8],), Output = core::option::Option<&'a u8>> + core::marker::Send>>>"},
	{"_RINvCs1VVoTBn8ZRl_8unstable3anyINtNtCs6IL9ONYDOZW_4core6option6OptionFK8C_unwindEuEEB2_", "unstable::any::<core::option::Option<extern \"C-unwind\" fn()>>"},
	{"_RINvCs1VVoTBn8ZRl_8unstable3anyINtNtCs6IL9ONYDOZW_4core6option6OptionFK6sysv64hEuEEB2_", "unstable::any::<core::option::Option<extern \"sysv64\" fn(u8)>>"},
	{"_RINvCs1VVoTBn8ZRl_8unstable3anyINtNtCs6IL9ONYDOZW_4core6option6OptionFEzEEB2_", "unstable::any::<core::option::Option<fn() -> !>>"},
	{"_RINvCs1VVoTBn8ZRl_8unstable3anyINtNtCs6IL9ONYDOZW_4core6option6OptionFUKClvElEEB2_", "unstable::any::<core::option::Option<unsafe extern \"C\" fn(i32, ...) -> i32>>"},
	{"_RINvCs1VVoTBn8ZRl_8unstable6cg_arrKAt1_t2_t3_EEB2_", "unstable::cg_arr::<{[1, 2, 3]}>"},
	{"_RINvCs1VVoTBn8ZRl_8unstable7cg_modeKVNtNtB2_4Mode5NamedS5levelm9_EEB2_", "unstable::cg_mode::<{unstable::Mode::Named { level: 9 }}>"},
	{"_RINvCs1VVoTBn8ZRl_8unstable7cg_modeKVNtNtB2_4Mode3OffUEB2_", "unstable::cg_mode::<{unstable::Mode::Off}>"},
	{"_RINvCs1VVoTBn8ZRl_8unstable7cg_modeKVNtNtB2_4Mode2OnTh3_EEB2_", "unstable::cg_mode::<{unstable::Mode::On(3)}>"},
	{"_RINvCs1VVoTBn8ZRl_8unstable7cg_pairKVNtB2_4PairTb1_c71_EEB2_", "unstable::cg_pair::<{unstable::Pair(true, 'q')}>"},
	{"_RINvCs1VVoTBn8ZRl_8unstable8cg_pointKVNtB2_5PointS1xh1_1ysn2_EEB2_", "unstable::cg_point::<{unstable::Point { x: 1, y: -2 }}>"},
	{"_RINvCs1VVoTBn8ZRl_8unstable6cg_refKRm5_EB2_", "unstable::cg_ref::<{&5}>"},
	{"_RINvCs1VVoTBn8ZRl_8unstable6cg_strKRe_EB2_", "unstable::cg_str::<\"\">"},
	{"_RINvCs1VVoTBn8ZRl_8unstable6cg_strKRe6772c3b6c39f65_EB2_", "unstable::cg_str::<\"größe\">"},
	{"_RINvCs1VVoTBn8ZRl_8unstable6cg_strKRe686920227468657265220a_EB2_", "unstable::cg_str::<\"hi \\\"there\\\"\\n\">"},
	{"_RINvCs1VVoTBn8ZRl_8unstable8cg_tupleKTh4_b0_EEB2_", "unstable::cg_tuple::<{(4, false)}>"},
	{"_RNvCs1VVoTBn8ZRl_8unstable4main", "unstable::main"},
	{"_RNSNvYNCINvNtCsdyIG5SqMl5y_3std2rt10lang_startuE0INtNtNtCs6IL9ONYDOZW_4core3ops8function6FnOnceuE9call_once6vtableCs1VVoTBn8ZRl_8unstable", "<std::rt::lang_start<()>::{closure#0} as core::ops::function::FnOnce<()>>::call_once::{shim:vtable#0}"},
	{"_ZN104_$LT$core..iter..sources..from_fn..FromFn$LT$F$GT$$u20$as$u20$core..iter..traits..iterator..Iterator$GT$4next17h5029af7e7bac568fE", "<core::iter::sources::from_fn::FromFn<F> as core::iter::traits::iterator::Iterator>::next"},
	{"_ZN12panic_unwind5dwarf2eh20read_encoded_pointer17h2a54419ccfa1d320E.llvm.16159844760554946847", "panic_unwind::dwarf::eh::read_encoded_pointer"},
	{"_ZN12panic_unwind8real_imp14find_eh_action28_$u7b$$u7b$closure$u7d$$u7d$17h385b3ff300586ab7E", "panic_unwind::real_imp::find_eh_action::{{closure}}"},
	{"_ZN3std2io5impls74_$LT$impl$u20$std..io..Write$u20$for$u20$alloc..vec..Vec$LT$u8$C$A$GT$$GT$14write_vectored17hf3783f93862d9359E", "std::io::impls::<impl std::io::Write for alloc::vec::Vec<u8,A>>::write_vectored"},
	{"_ZN42_$LT$$RF$T$u20$as$u20$core..fmt..Debug$GT$3fmt17h0b862a2d068a2654E", "<&T as core::fmt::Debug>::fmt"},
	{"_ZN45_$LT$$LP$$RP$$u20$as$u20$core..fmt..Debug$GT$3fmt17h792f683c3616934fE.llvm.11502952057138234896", "<() as core::fmt::Debug>::fmt"},
	{"_ZN50_$LT$$BP$mut$u20$T$u20$as$u20$core..fmt..Debug$GT$3fmt17h2a5b17296eb711a0E", "<*mut T as core::fmt::Debug>::fmt"},
	{"_RNvC6_123foo3bar", "123foo::bar"},
	{"_RC4f128", "f128"},
	{"_RINvC1a1fL_E", "a::f::<'_>"},
	{"_RINvC1a1fpE", "a::f::<_>"},
	{"_RINvC1a1fKpE", "a::f::<_>"},
	{"_RINvC1a1fKo123456789abcdef0123456789_E", "a::f::<0x123456789abcdef0123456789>"},
	{"_RINvC1a1fKanff_E", "a::f::<-255>"},
	{"_RINvC1a1fKj0_E", "a::f::<0>"},
	{"_RINvC1a1fKy0000000000000000ffffffffffffffff_E", "a::f::<18446744073709551615>"},
	{"_RINvC1a1fKVNtC1a1STj1_j2_EE", "a::f::<{a::S(1, 2)}>"},
	{"_RINvC1a1fKVNtC1a1SS1xj1_s_1yb0_EE", "a::f::<{a::S { x: 1, y: false }}>"},
	{"_RINvC1a1fFGp_RL0_hEuE", "a::f::<for<'a, 'b, 'c, 'd, 'e, 'f, 'g, 'h, 'i, 'j, 'k, 'l, 'm, 'n, 'o, 'p, 'q, 'r, 's, 't, 'u, 'v, 'w, 'x, 'y, 'z, '_26> fn(&'_26 u8)>"},
	{"_RINvC1a1fKc0_E", "a::f::<'\\0'>"},
	{"_RINvC1a1fKc7f_E", "a::f::<'\\u{7f}'>"},
	{"_RINvC1a1fKc301_E", "a::f::<'\\u{301}'>"},
	{"_RINvC1a1fKc1f600_E", "a::f::<'😀'>"},
	{"_RINvC1a1fKc22_E", "a::f::<'\"'>"},
	{"_RINvC1a1fKc5c_E", "a::f::<'\\\\'>"},
	{"_RINvC1a1fKRe5c0927_E", "a::f::<\"\\\\\\t'\">"},
	{"_RINvC1a1fKRef09f9880_E", "a::f::<\"😀\">"},
	{"_RINvC1a1fKQhff_E", "a::f::<{&mut 255}>"},
	{"_RINvC1a1fKeb_E", NULL},
	{"_RINvC1a1fKe62_E", "a::f::<{*\"b\"}>"},
	{"_RINvC1a1fKTj1_EE", "a::f::<{(1,)}>"},
	{"_RINvC1a1fKTEE", "a::f::<{()}>"},
	{"_RINvC1a1fKAEE", "a::f::<{[]}>"},
	{"_RINvC1a1fKVNtC1a1SUE", "a::f::<{a::S}>"},
	{"_RINvC1a1fFG_RL0_hEuE", "a::f::<for<'a> fn(&'a u8)>"},
	{"_RINvC1a1fFG0_RL1_hRL0_tEuE", "a::f::<for<'a, 'b> fn(&'a u8, &'b u16)>"},
	{"_RINvC1a1fFG_RL1_hEuE", NULL},
	{"_RINvC1a1fFKCEuE", "a::f::<extern \"C\" fn()>"},
	{"_RINvC1a1fFK8C_unwindEuE", "a::f::<extern \"C-unwind\" fn()>"},
	{"_RINvC1a1fFUKCvEuE", "a::f::<unsafe extern \"C\" fn(...)>"},
	{"_RINvC1a1fFEzE", "a::f::<fn() -> !>"},
	{"_RINvC1a1fFG_DNtC1a1TEL0_EuE", "a::f::<for<'a> fn(dyn a::T + 'a)>"},
	{"_RINvC1a1fDG_NtC1a1TEL1_E", NULL},
	{"_RINvC1a1fDNtC1a1TEL0_E", NULL},
	{"_RINvC1a1fDNtC1a1TNtC1a1UEL_E", "a::f::<dyn a::T + a::U>"},
	{"_RINvC1a1fDINtC1a1TmEp1Xhp1YtEL_E", "a::f::<dyn a::T<u32, X = u8, Y = u16>>"},
	{"_RINvC1a1fDNtC1a1Tp1XhEL_E", "a::f::<dyn a::T<X = u8>>"},
	{"_RNvYNtC1a1SNtC1a1T1f", "<a::S as a::T>::f"},
	{"_RNvMs_C1aNtB4_1S1f", "<a::S>::f"},
	{"_RNvXs0_C1aNtB5_1SNtB5_1T1f", "<a::S as a::T>::f"},
	{"_RNvNCNvC1a1f0s_1g", "a::f::{closure#0}::g"},
	{"_RNvNSNvC1a1f6vtable3foo", "a::f::{shim:vtable#0}::foo"},
	{"_RNCNvC1a1fs0_0", "a::f::{closure#2}"},
	{"_RNvNkNvC1a1f01g", "a::f::g"},
	{"_RNvNxC1a1b1c", "a::b::c"},
	{"_RNvC1au3zzz", "a::箥"},
	{"_RNvC1au6999999", NULL},
	{"_RNvC1au7zzzzzzz", "a::箥糪縖"},
	{"_RNvC1au5ab_cd", "a::punycode{ab-cd}"},
	{"_RNvC3foo3bar.llvm.0123ABCD", "foo::bar"},
	{"_RNvC3foo3bar.cold.1", "foo::bar"},
	{"_RNvC3foo3barCs123_5other", "foo::bar"},
	{"_RNvC3foo3barC5other.llvm.9", "foo::bar"},
	{"_RINvC1a1fAhj10_E", "a::f::<[u8; 16]>"},
	{"_RINvC1a1fShE", "a::f::<[u8]>"},
	{"_RINvC1a1fTEE", "a::f::<()>"},
	{"_RINvC1a1fThEE", "a::f::<(u8,)>"},
	{"_RINvC1a1fThtEE", "a::f::<(u8, u16)>"},
	{"_RINvC1a1fPOhE", "a::f::<*const *mut u8>"},
	{"_RINvC1a1fRQL_hE", "a::f::<&&mut u8>"},
	{"_RINvC1a1fBy_E", NULL},
	{"_RINvC1a1fRhB8_E", "a::f::<&u8, u8>"},
	{"_RINvC1a1fINtB2_1SBa_EE", "a::f::<a::S<a>>"},
	{"_RIC1aB1_E", NULL},
	{"_RNvB_1a", NULL},
	{"_RB_", NULL},
	{"_RNvB3_1a", NULL},
	{"_R", NULL},
	{"_RC", NULL},
	{"_RC3fo", NULL},
	{"_Rv", NULL},
	{"_R0C3foo", NULL},
	{"_RNvC3foo", NULL},
	{"_RN0C3foo3bar", NULL},
	{"_RINvC3foo3barm", NULL},
	{"_RINvC3foo3barmE.", "foo::bar::<u32>"},
	{"_RINvC3foo3barmEx", NULL},
	{"_RINvC3foo3barmE uu", NULL},
	{"_RIC3fooKc110000_E", NULL},
	{"_RIC3fooKcd800_E", NULL},
	{"_RIC3fooKb2_E", NULL},
	{"_RIC3fooKRe6_E", NULL},
	{"_RIC3fooKRec3_E", NULL},
	{"_RIC3fooKRec0af_E", NULL},
	{"_RIC3fooKReeda080_E", NULL},
	{"_RIC3fooKRef4908080_E", NULL},
	{"_RIC3fooKhg_E", NULL},
	{"_RIC3fooKVNtC1a1SXE", NULL},
	{"_RIC3fooKzE", NULL},
	{"_RIC1aFKuEuE", NULL},
	{"_RIC1aFKu1xEuE", NULL},
	{"_RIC1aDNtC1a1TE", NULL},
	{"_RIC1aDNtC1a1TELE", NULL},
	{"_RIC1aDNtC1a1TEL1_E", NULL},
	{"_RIC1aL0_E", NULL},
	{"_RNvC1a999999999999999999999999b", NULL},
	{"_RNvCs999999999999999999_1a1b", NULL},
	{"_RC1é", NULL},
	{"_RNvC1au6gr_e_s", "a::punycode{gr_e-s}"},
	{"_RNvC1au3a_9", "a::punycode{a-9}"},
	{"_RNvC1au2_a", NULL},
	{"_RNvC1au1_", NULL},
	{"_RNvC1au132aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_a", "a::punycode{aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a}"},
	{"_ZN3foo3bar17h0123456789abcdefE", "foo::bar"},
	{"_ZN3foo17h0123456789ABCDEFE", "foo"},
	{"_ZN3foo10$u20$$u7e$17h0123456789abcdefE", "foo:: ~"},
	{"_ZN3foo5_$LT$17h0123456789abcdefE", "foo::<"},
	{"_ZN3foo7$ud800$17h0123456789abcdefE", "foo::$ud800$"},
	{"_ZN3foo5$u7f$17h0123456789abcdefE", "foo::$u7f$"},
	{"_ZN3foo6$u41$x17h0123456789abcdefE", "foo::Ax"},
	{"_ZN3foo8$uABCD$x17h0123456789abcdefE", "foo::$uABCD$x"},
	{"_ZN3foo4$XX$17h0123456789abcdefE", "foo::$XX$"},
	{"_ZN3foo5a$LTb17h0123456789abcdefE", "foo::a$LTb"},
	{"_ZN3foo5a.b.c17h0123456789abcdefE", "foo::a.b.c"},
	{"_ZN3foo4a..b17h0123456789abcdefE", "foo::a::b"},
	{"_ZN3foo3...17h0123456789abcdefE", "foo::::."},
	{"_ZN3foo11$u1f600$$C$17h0123456789abcdefE", "foo::😀,"},
	{"_ZN3foo3bar17h0123456789abcdefE.llvm.1234", "foo::bar"},
	{"_ZN3foo3bar17h0123456789abcdefE.cold", "foo::bar"},
	{"_ZN02ab17h0123456789abcdefE", "ab"},
};
// clang-format on
/* END vectors */

/* Features newer than rustc-demangle 0.1.21: pattern types and associated constants in a
 * `dyn`; the names as upstream rustc-demangle (0.1.27) prints them. */
static const struct vector newer[] = {
    {"_RMC0WmRm1_m9_", "<u32 is 1..=9>"},
    {"_RMC0WmORm1_m2_Rm5_m6_E", "<u32 is 1..=2 | 5..=6>"},
    {"_RMC0WmN", "<u32 is !null>"},
    {"_RMC0WmORm1_m2_Rm5_m6_", NULL},
    {"_RINvC1a1fDNtC1a1Tp1NKj3_EL_E", "a::f::<dyn a::T<N = 3>>"},
};

/* What heapprof rejects by design though rustc-demangle prints something: a `_ZN` name
 * without a hash is C++ (or at least not provably Rust), and so is one with anything but
 * a `.suffix` after its `E`; an empty name says less than the symbol. */
static const struct vector not_rust[] = {
    {"_ZN3foo3barE", NULL},
    {"_ZN3foo3barEv", NULL},
    {"_ZN3foo17h0123456789abcdefEv", NULL},
    {"_ZN3foo17h0123456789abcdefEi.cold", NULL},
    {"_ZN3fooIiE17h0123456789abcdefE", NULL},
    {"_ZN17h0123456789abcdefE", NULL},
    {"_ZN3foo16h0123456789abcdeE", NULL},
    {"_ZN3foo18h0123456789abcdef0E", NULL},
    {"_ZN3foo17g0123456789abcdefE", NULL},
    {"_ZN3foo17h0123456789abcdegE", NULL},
    {"_ZN3foo17h0123456789abcdef", NULL},
    {"_ZN3foo99h0123456789abcdefE", NULL},
    {"_ZN99999999999999999999999999h0123456789abcdefE", NULL},
    {"_ZN3f\xc3\xa9"
     "17h0123456789abcdefE",
     NULL},
    {"_ZN3foo17h0123456789abcdefE.a b", NULL},
    {"_ZNK3foo3barEv", NULL},
    {"_ZN9__gnu_cxx13new_allocatorIcE8allocateEmPKv", NULL},
    {"_ZNSt6vectorIiSaIiEE9push_backERKi", NULL},
    {"_Z3foov", NULL},
    {"main", NULL},
    {"", NULL},
    {"_", NULL},
    {"_Z", NULL},
    {"_ZN", NULL},
    {"_ZNE", NULL},
    {"_RC0", NULL},
    {"_RNvC0_0", NULL},
    {"_RNvC3foo3bar\x01", NULL},
    {"_RNvC3foo3bar.a b", NULL},
};

static void check_table(const struct vector *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *got = hp_demangle_rust(v[i].mangled);
		if (v[i].expected)
			CHECK_STR(got, v[i].expected);
		else
			CHECK_(!got && errno == EINVAL, "%s rejected (got \"%s\")", v[i].mangled,
			       got ? got : "(null)");
		free(got);
	}
}

/* Every prefix of every vector: no crash, no read past the NUL (ASan), no leak. A cut
 * v0 name is rejected unless it ends where a valid name can end. */
static void check_prefixes(const struct vector *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(v[i].mangled);
		for (size_t k = 0; k < len; k++) {
			char *cut = strndup(v[i].mangled, k);
			CHECK(cut != NULL);
			free(hp_demangle_rust(cut));
			free(cut);
		}
	}
	/* Cuts that must fail: inside an identifier, a number, a list, a backref. */
	static const char *const cuts[] = {
	    "_RNvC3foo3ba",
	    "_RNvC3foo3",
	    "_RNvC3foo",
	    "_RNvC3f",
	    "_RNvCs1234",
	    "_RINvC3foo3barm",
	    "_RINvC3foo3barB",
	    "_RINvC3foo3barB2",
	    "_RINvC3foo3barKj1",
	    "_RINvC3foo3barKj",
	    "_RINvC3foo3barF",
	    "_RINvC3foo3barFh",
	    "_RINvC3foo3barDNtC1a1T",
	    "_RINvC3foo3barDNtC1a1TEL",
	    "_RINvC3foo3barAh",
	};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		char *got = hp_demangle_rust(cuts[i]);
		CHECK_(!got, "%s rejected (got \"%s\")", cuts[i], got ? got : "(null)");
		free(got);
	}
}

/* `reps` copies of `unit` between `head` and `tail`, in a new string. */
static char *repeat(const char *head, const char *unit, size_t reps, const char *tail)
{
	size_t h = strlen(head), u = strlen(unit), t = strlen(tail);
	char *s = malloc(h + u * reps + t + 1), *p = s;
	if (!s)
		return NULL;
	memcpy(p, head, h);
	p += h;
	for (size_t i = 0; i < reps; i++, p += u)
		memcpy(p, unit, u);
	memcpy(p, tail, t + 1);
	return s;
}

static int demangles(const char *sym)
{
	char *got = hp_demangle_rust(sym);
	free(got);
	return got != NULL;
}

/* Nesting is bounded: a name nested 100 deep demangles, 100000 deep is rejected without
 * overflowing the stack, in paths, types, consts and generics. The shapes are left
 * unclosed: the depth limit has to stop them long before their end. */
static void check_nesting(void)
{
	static const struct {
		const char *head, *unit, *tail;
	} shapes[] = {
	    {"_R", "Nv", "C1a"},	     /* a::b::b::...: tail comes first, units nest */
	    {"_RINvC1a1f", "R", "hE"},	     /* &&&...u8 */
	    {"_RINvC1a1f", "INtC1a1S", "h"}, /* S<S<...<u8>>> (without its E's) */
	    {"_RINvC1a1fKA", "A", ""},	     /* [[[...]]] consts */
	    {"_RINvC1a1f", "FE", "u"},	     /* fn() -> fn() -> ... */
	    {"_RINvC1a1f", "T", "h"},	     /* (((u8,),),) */
	};
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		char *deep = repeat(shapes[i].head, shapes[i].unit, 100000, shapes[i].tail);
		CHECK(deep != NULL);
		CHECK_(!demangles(deep), "shape %zu nested 100000 deep is rejected", i);
		free(deep);
	}
	/* The a::b::b chain, closed properly, both sides of the limit. */
	for (size_t reps = 100; reps <= 100000; reps *= 1000) {
		char *path = repeat("_R", "Nv", reps, "C1a");
		char *full = path ? repeat(path, "1b", reps, "") : NULL;
		char *got = full ? hp_demangle_rust(full) : NULL;
		CHECK(full != NULL);
		if (reps == 100) {
			CHECK(got != NULL && strlen(got) == 1 + 3 * reps);
			CHECK(got && strncmp(got, "a::b::b", 7) == 0);
		} else {
			CHECK(got == NULL);
		}
		free(got);
		free(full);
		free(path);
	}
	/* S<S<...<u8>...>> closed, 100 deep: fine. */
	char *nest = repeat("_RINvC1a1f", "INtC1a1S", 100, "h");
	char *closed = nest ? repeat(nest, "E", 101, "") : NULL;
	CHECK(closed && demangles(closed));
	free(nest);
	free(closed);
}

/* _RINvC1a1f, then T hh E, then `levels` tuples T B<prev> B<prev> E each holding the
 * previous one twice, then E: a name of 2^(levels + 1) u8s, in a new string. */
static char *tuple_chain(int levels)
{
	static const char digits[] =
	    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	size_t cap = 64 + 32 * (size_t)levels, len, prev;
	char *s = malloc(cap);
	if (!s)
		return NULL;
	len = (size_t)snprintf(s, cap, "_RINvC1a1f");
	prev = len - 2; /* backref positions count from after "_R" */
	len += (size_t)snprintf(s + len, cap - len, "ThhE");
	for (int level = 0; level < levels; level++) {
		/* <base-62-number>: "_" for 0, else the digits of the value - 1, then "_" */
		char ref[16], rev[16];
		size_t r = 0, t = 0, v = prev;
		if (v--) {
			do
				rev[t++] = digits[v % 62];
			while ((v /= 62));
		}
		while (t)
			ref[r++] = rev[--t];
		ref[r] = '\0';
		prev = len - 2;
		len += (size_t)snprintf(s + len, cap - len, "TB%s_B%s_E", ref, ref);
	}
	snprintf(s + len, cap - len, "E");
	return s;
}

/* Backrefs: to themselves, forward, in a loop through their own target; and a chain of
 * tuples whose name doubles with each level: work and output are bounded, so a deep one
 * is rejected, quickly. */
static void check_backrefs(void)
{
	static const char *const bad[] = {
	    "_RB_",	 /* to itself */
	    "_RNvB_1a",	 /* to the path that holds it: loops to the depth limit */
	    "_RNvB3_1a", /* forward */
	    "_RNvBzzzzzzzzzzzzzzzzzzzzzz_1a", /* past 64 bits */
	    "_RINvC1a1fB_E",		      /* a type at a path's position */
	    "_RINvC1a1fKB_E",		      /* a const there */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_(!demangles(bad[i]), "%s rejected", bad[i]);

	char *small = tuple_chain(2), *huge = tuple_chain(60);
	char *got = small ? hp_demangle_rust(small) : NULL;
	CHECK_STR(got, "a::f::<(u8, u8), ((u8, u8), (u8, u8)), (((u8, u8), (u8, u8)), ((u8, "
		       "u8), (u8, u8)))>");
	free(got);
	clock_t t0 = clock();
	CHECK_(huge && !demangles(huge), "%s", "a name of 2^61 u8s is rejected");
	CHECK_((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0, "%s", "and quickly");
	free(small);
	free(huge);

	/* for<'a, 'b, ... 2^64 lifetimes>: the output limit ends it. */
	CHECK(!demangles("_RINvC1a1fFGzzzzzzzzzzz_EuE"));
}

/* The lines `SYMBOL<tab>EXPECTED` of `path`; returns the number checked, -1 on error. */
static long check_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	long n = 0;
	if (!f) {
		fprintf(stderr, "test_demangle_rust: cannot open '%s': %s\n", path,
			strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, f) > 0) {
		char *tab = strchr(line, '\t');
		if (!tab)
			continue;
		*tab = '\0';
		tab[strcspn(tab + 1, "\n") + 1] = '\0';
		const char *expected = strcmp(tab + 1, "-") == 0 ? NULL : tab + 1;
		struct vector v = {line, expected};
		check_table(&v, 1);
		n++;
	}
	free(line);
	fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		long n = check_file(argv[1]);
		if (n < 0)
			return 2;
		printf("%ld symbols of %s\n", n, argv[1]);
		return check_done();
	}
	check_table(vectors, sizeof(vectors) / sizeof(vectors[0]));
	check_table(newer, sizeof(newer) / sizeof(newer[0]));
	check_table(not_rust, sizeof(not_rust) / sizeof(not_rust[0]));
	check_prefixes(vectors, sizeof(vectors) / sizeof(vectors[0]));
	check_nesting();
	check_backrefs();
	return check_done();
}
