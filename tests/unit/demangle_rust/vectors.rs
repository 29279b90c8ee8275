// The program whose symbols are the vectors of test_demangle_rust.c (gen.sh builds it
// with legacy and v0 mangling): each feature of both grammars, in a function name or a
// generic argument.
use std::collections::HashMap;
use std::fmt::Debug;

pub mod outer {
    pub mod inner {
        #[inline(never)]
        pub fn function() -> u32 {
            crate::bb(7)
        }
    }
}

pub trait Shape {
    fn area(&self) -> f64;
    fn name(&self) -> &'static str {
        "shape"
    }
}

pub struct Square(pub f64);
pub struct Wrapper<T>(pub T);
pub struct Arr<const N: usize>([u8; N]);

impl Shape for Square {
    #[inline(never)]
    fn area(&self) -> f64 {
        self.0 * self.0
    }
}

impl<T: Debug> Shape for Wrapper<T> {
    #[inline(never)]
    fn area(&self) -> f64 {
        format!("{:?}", self.0).len() as f64
    }
}

impl Square {
    #[inline(never)]
    pub fn new(side: f64) -> Square {
        Square(side)
    }
}

impl<T> Wrapper<T> {
    #[inline(never)]
    pub fn get(&self) -> &T {
        &self.0
    }
}

impl<const N: usize> Arr<N> {
    #[inline(never)]
    pub fn len(&self) -> usize {
        crate::bb(N + self.0.len())
    }
}

#[inline(never)]
pub fn generic<T: Debug>(t: T) -> usize {
    format!("{:?}", t).len()
}

#[inline(never)]
pub fn any<T>(t: T) -> usize {
    std::mem::size_of_val(&t)
}

#[inline(never)]
pub fn cg_int<const N: i32>() -> i32 {
    crate::bb(N)
}

#[inline(never)]
pub fn cg_u64<const N: u64>() -> u64 {
    crate::bb(N)
}

#[inline(never)]
pub fn cg_bool<const B: bool>() -> bool {
    crate::bb(B)
}

#[inline(never)]
pub fn cg_char<const C: char>() -> char {
    crate::bb(C)
}

#[inline(never)]
pub fn größe(x: u32) -> u32 {
    crate::bb(x + 1)
}

pub mod módulo {
    #[inline(never)]
    pub fn añadir<T: Copy>(x: T) -> T {
        crate::bb(x)
    }
}

#[inline(never)]
pub fn with_closure(v: &[u32]) -> u32 {
    let k = bb(3);
    let f = |x: &u32| x * k;
    let g = |x: u32| x + 1;
    v.iter().map(f).map(g).sum()
}

#[inline(never)]
pub fn generic_closure<T: Copy + Into<u64>>(t: T) -> u64 {
    let f = move || t.into() * 2;
    crate::bb(f)()
}

#[inline(never)]
pub fn boxed_fnonce(n: u32) -> Box<dyn FnOnce() -> u32 + Send> {
    Box::new(move || n + 1)
}

#[inline(never)]
pub fn use_dyn(shapes: &[Box<dyn Shape>]) -> f64 {
    shapes.iter().map(|s| s.area()).sum()
}

#[inline(never)]
pub fn use_iter(it: &mut dyn Iterator<Item = u32>) -> u32 {
    it.sum()
}

#[inline(never)]
pub fn use_hashmap(n: u32) -> usize {
    let mut m: HashMap<String, Vec<u32>> = HashMap::new();
    for i in 0..n {
        m.entry(format!("k{}", i % 5)).or_default().push(i);
    }
    m.len()
}

pub struct Holder<'a> {
    pub s: &'a str,
}

impl<'a> Holder<'a> {
    #[inline(never)]
    pub fn first(&self) -> Option<char> {
        self.s.chars().next()
    }
}

fn main() {
    let mut acc = 0usize;
    acc += outer::inner::function() as usize;
    acc += Square::new(2.0).area() as usize;
    acc += Wrapper(5u8).area() as usize;
    acc += Wrapper("x").name().len();
    acc += *Wrapper(3usize).get();
    acc += Arr([0u8; 4]).len();
    acc += Arr::<0>([]).len();
    acc += generic(1i8) + generic(2i16) + generic(3i32) + generic(4i64) + generic(5i128);
    acc += generic(1u8) + generic(2u16) + generic(3u32) + generic(4u64) + generic(5u128);
    acc += generic(1isize) + generic(2usize) + generic(1.5f32) + generic(2.5f64);
    acc += generic(true) + generic('c') + generic("str") + generic(());
    acc += generic(&mut 5u8) + generic(&7u16 as *const u16) + generic(&mut 8u32 as *mut u32);
    acc += generic([1u8, 2, 3, 4]) + generic(&[1u16, 2][..]) + generic((1i32,)) + generic((1u8, 2.0f64, "z"));
    acc += generic(String::from("s")) + generic(vec![1u32]) + generic(Some(Box::new(3u8)));
    acc += generic(generic::<u8> as fn(u8) -> usize);
    acc += generic(main as fn());
    extern "C" fn cfn(x: i32) -> i32 { x }
    acc += generic(cfn as extern "C" fn(i32) -> i32);
    unsafe extern "C" fn ucfn() {}
    acc += generic(ucfn as unsafe extern "C" fn());
    unsafe fn ufn(_: &u8) {}
    acc += any(ufn as unsafe fn(&u8));
    fn hr(_: &u8, _: &u16) {}
    acc += any(hr as for<'a, 'b> fn(&'a u8, &'b u16));
    let d: &dyn Debug = &1u8;
    acc += generic(d);
    let ds: Box<dyn Debug + Send + Sync> = Box::new(2u8);
    acc += generic(&ds);
    let f: &dyn Fn(u8) -> u8 = &|x| x;
    acc += generic(f as *const dyn Fn(u8) -> u8);
    let h: &dyn for<'a> Fn(&'a str) -> &'a str = &|x| x;
    acc += generic(h as *const dyn for<'a> Fn(&'a str) -> &'a str);
    acc += cg_int::<-42>() as usize + cg_int::<7>() as usize;
    acc += cg_u64::<{ u64::MAX }>() as usize & 1;
    acc += cg_bool::<true>() as usize + cg_bool::<false>() as usize;
    acc += cg_char::<'x'>() as usize + cg_char::<'é'>() as usize + cg_char::<'\n'>() as usize + cg_char::<'\''>() as usize;
    acc += größe(1) as usize + módulo::añadir(2u8) as usize;
    acc += with_closure(&[1, 2, 3]) as usize;
    acc += generic_closure(4u8) as usize + generic_closure(5u32) as usize;
    acc += boxed_fnonce(3)() as usize;
    acc += use_dyn(&[Box::new(Square(1.0)), Box::new(Wrapper(2u16))]) as usize;
    acc += use_iter(&mut (0..4u32)) as usize;
    acc += use_hashmap(10);
    acc += Holder { s: "abc" }.first().map_or(0, |c| c as usize);
    let r = std::panic::catch_unwind(|| {
        if bb(true) {
            panic!("caught");
        }
        1
    });
    acc += r.unwrap_or(2);
    let t = std::thread::spawn(move || acc * 2);
    println!("{}", t.join().unwrap());
}

#[inline(never)]
pub fn bb<T>(x: T) -> T {
    let r = unsafe { std::ptr::read_volatile(&x) };
    std::mem::forget(x);
    r
}
