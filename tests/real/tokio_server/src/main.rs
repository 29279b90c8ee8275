//! A multi-threaded tokio server with a cache that only grows: the shape of a server that
//! leaks by keeping everything. Line protocol on 127.0.0.1 (the port it prints first):
//!   SET key size   stores `size` bytes under key, answers "OK"
//!   GET key        answers the stored size, or "NIL"
//! Each SET also appends to a history that is never trimmed. Ctrl-C (SIGINT) stops it;
//! it then prints its totals and exits 0.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

mod store {
    use std::collections::HashMap;

    #[derive(Default)]
    pub struct Store {
        pub cache: HashMap<String, Vec<u8>>,
        pub history: Vec<String>,
    }

    impl Store {
        #[inline(never)]
        pub fn set(&mut self, key: &str, size: usize) {
            self.cache.insert(key.to_string(), vec![0x5a; size]);
            self.history.push(format!("set {} {}", key, size));
        }

        #[inline(never)]
        pub fn get(&self, key: &str) -> Option<usize> {
            self.cache.get(key).map(|v| v.len())
        }
    }
}

type Shared = Arc<Mutex<store::Store>>;

async fn serve(socket: TcpStream, store: Shared, counts: Arc<Mutex<HashMap<&'static str, u64>>>) {
    let _ = socket.set_nodelay(true);
    let (rd, mut wr) = socket.into_split();
    let mut lines = BufReader::new(rd).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let mut parts = line.split_whitespace();
        let reply = match (parts.next(), parts.next(), parts.next()) {
            (Some("SET"), Some(key), Some(size)) => match size.parse::<usize>() {
                Ok(n) if n <= 1 << 20 => {
                    store.lock().unwrap().set(key, n);
                    *counts.lock().unwrap().entry("set").or_insert(0) += 1;
                    "OK".to_string()
                }
                _ => "ERR size".to_string(),
            },
            (Some("GET"), Some(key), None) => {
                *counts.lock().unwrap().entry("get").or_insert(0) += 1;
                match store.lock().unwrap().get(key) {
                    Some(n) => n.to_string(),
                    None => "NIL".to_string(),
                }
            }
            _ => "ERR command".to_string(),
        };
        if wr.write_all(format!("{}\n", reply).as_bytes()).await.is_err() {
            break;
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    println!("port {}", listener.local_addr().unwrap().port());
    let store: Shared = Arc::new(Mutex::new(store::Store::default()));
    let counts = Arc::new(Mutex::new(HashMap::new()));
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((socket, _)) = accepted {
                    tokio::spawn(serve(socket, store.clone(), counts.clone()));
                }
            }
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    let s = store.lock().unwrap();
    let c = counts.lock().unwrap();
    println!(
        "stopped: keys={} history={} sets={} gets={}",
        s.cache.len(),
        s.history.len(),
        c.get("set").unwrap_or(&0),
        c.get("get").unwrap_or(&0)
    );
}
