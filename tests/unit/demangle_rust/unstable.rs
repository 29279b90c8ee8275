// Mangling features that need unstable compiler features: built with RUSTC_BOOTSTRAP=1 by gen.sh.
#![feature(adt_const_params, c_unwind)]
#![allow(incomplete_features)]

#[derive(PartialEq, Eq)]
pub struct Point {
    pub x: u8,
    pub y: i16,
}

#[derive(PartialEq, Eq)]
pub struct Pair(pub bool, pub char);

#[derive(PartialEq, Eq)]
pub enum Mode {
    Off,
    On(u8),
    Named { level: u32 },
}

#[inline(never)]
pub fn cg_str<const S: &'static str>() -> usize {
    S.len()
}

#[inline(never)]
pub fn cg_point<const P: Point>() -> u8 {
    P.x
}

#[inline(never)]
pub fn cg_pair<const P: Pair>() -> bool {
    P.0
}

#[inline(never)]
pub fn cg_mode<const M: Mode>() -> usize {
    0
}

#[inline(never)]
pub fn cg_arr<const A: [u16; 3]>() -> u16 {
    A[0]
}

#[inline(never)]
pub fn cg_tuple<const T: (u8, bool)>() -> u8 {
    T.0
}

#[inline(never)]
pub fn cg_ref<const R: &'static u32>() -> u32 {
    *R
}

#[inline(never)]
pub fn any<T>(t: T) -> usize {
    std::mem::size_of_val(&t)
}

fn main() {
    let mut acc = 0usize;
    acc += cg_str::<"hi \"there\"\n">() + cg_str::<"">() + cg_str::<"größe">();
    acc += cg_point::<{ Point { x: 1, y: -2 } }>() as usize;
    acc += cg_pair::<{ Pair(true, 'q') }>() as usize;
    acc += cg_mode::<{ Mode::Off }>() + cg_mode::<{ Mode::On(3) }>() + cg_mode::<{ Mode::Named { level: 9 } }>();
    acc += cg_arr::<{ [1, 2, 3] }>() as usize;
    acc += cg_tuple::<{ (4, false) }>() as usize;
    acc += cg_ref::<{ &5 }>() as usize;
    acc += any(None::<extern "C-unwind" fn()>);
    acc += any(None::<unsafe extern "C" fn(i32, ...) -> i32>);
    acc += any(None::<extern "sysv64" fn(u8)>);
    acc += any(None::<fn() -> !>);
    acc += any(None::<&dyn Iterator<Item = (u8, u16)>>);
    acc += any(None::<Box<dyn for<'a> FnMut(&'a [u8]) -> Option<&'a u8> + Send + 'static>>);
    println!("{}", acc);
}
