//! Pod and Service addresses.

use std::sync::atomic::{AtomicU32, Ordering};

/// Hands out pod addresses (10.244.0.0/16) and service addresses (10.96.0.0/16) from one counter.
#[derive(Debug)]
pub struct IpAllocator {
    next: AtomicU32,
}

impl Default for IpAllocator {
    fn default() -> Self {
        Self {
            next: AtomicU32::new(10),
        }
    }
}

impl IpAllocator {
    /// A fresh address from the sandbox's pod or service range.
    pub fn allocate(&self, service: bool) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let (a, b) = ((n >> 8) & 0xff, n & 0xff);
        if service {
            format!("10.96.{a}.{b}")
        } else {
            format!("10.244.{a}.{b}")
        }
    }

    /// Makes later allocations skip an address already in use (restored from a state directory).
    pub fn reserve(&self, ip: &str) {
        let octets: Vec<u32> = ip.split('.').filter_map(|o| o.parse().ok()).collect();
        if let [10, 96 | 244, a, b] = octets[..] {
            self.next.fetch_max(((a << 8) | b) + 1, Ordering::Relaxed);
        }
    }
}
