//! NodePorts: the 30000-32767 range, each port handed to one Service at a time.

use std::collections::BTreeSet;
use std::sync::Mutex;

/// The first and last NodePort (kube-apiserver's default `--service-node-port-range`).
pub const RANGE: std::ops::RangeInclusive<u16> = 30000..=32767;

/// Why a port cannot be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortError {
    OutOfRange,
    Taken,
    Exhausted,
}

impl std::fmt::Display for PortError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PortError::OutOfRange => {
                "provided port is not in the valid range. The range of valid ports is 30000-32767"
            }
            PortError::Taken => "provided port is already allocated",
            PortError::Exhausted => "range is full: no NodePort is free",
        })
    }
}

#[derive(Debug)]
struct State {
    taken: BTreeSet<u16>,
    /// Where the next search starts, so a released port is not handed out again at once.
    cursor: u16,
}

/// Hands out NodePorts; ports go back when their Service goes or stops using them.
#[derive(Debug)]
pub struct NodePorts {
    state: Mutex<State>,
}

impl Default for NodePorts {
    fn default() -> Self {
        Self {
            state: Mutex::new(State {
                taken: BTreeSet::new(),
                cursor: *RANGE.start(),
            }),
        }
    }
}

impl NodePorts {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A free port, taken now (or only looked up, for a dry run).
    pub fn allocate(&self, dry_run: bool) -> Result<u16, PortError> {
        let mut st = self.state();
        let (start, end) = (*RANGE.start(), *RANGE.end());
        let from = st.cursor.clamp(start, end);
        let free = (from..=end)
            .chain(start..from)
            .find(|p| !st.taken.contains(p))
            .ok_or(PortError::Exhausted)?;
        if !dry_run {
            st.taken.insert(free);
            st.cursor = if free == end { start } else { free + 1 };
        }
        Ok(free)
    }

    /// Takes a port a Service asked for by number.
    pub fn reserve(&self, port: i64, dry_run: bool) -> Result<u16, PortError> {
        let port = u16::try_from(port)
            .ok()
            .filter(|p| RANGE.contains(p))
            .ok_or(PortError::OutOfRange)?;
        let mut st = self.state();
        if st.taken.contains(&port) {
            return Err(PortError::Taken);
        }
        if !dry_run {
            st.taken.insert(port);
        }
        Ok(port)
    }

    /// Gives ports back.
    pub fn release(&self, ports: impl IntoIterator<Item = i64>) {
        let mut st = self.state();
        for p in ports {
            if let Ok(p) = u16::try_from(p) {
                st.taken.remove(&p);
            }
        }
    }

    /// Marks ports as used without checks (Services restored from a state directory).
    pub fn restore(&self, ports: impl IntoIterator<Item = i64>) {
        let mut st = self.state();
        for p in ports {
            if let Ok(p) = u16::try_from(p)
                && RANGE.contains(&p)
            {
                st.taken.insert(p);
            }
        }
    }

    pub fn in_use(&self) -> usize {
        self.state().taken.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_unique_until_released_and_the_range_can_fill() {
        let ports = NodePorts::default();
        let a = ports.allocate(false).unwrap();
        let b = ports.allocate(false).unwrap();
        assert_ne!(a, b);
        assert!(RANGE.contains(&a) && RANGE.contains(&b));
        // A dry run looks without taking.
        let peek = ports.allocate(true).unwrap();
        assert_eq!(ports.allocate(false).unwrap(), peek);
        // Asked-for ports: taken once, in range only.
        assert_eq!(ports.reserve(31000, false), Ok(31000));
        assert_eq!(ports.reserve(31000, false), Err(PortError::Taken));
        assert_eq!(ports.reserve(80, false), Err(PortError::OutOfRange));
        assert_eq!(ports.reserve(70000, false), Err(PortError::OutOfRange));
        // Every port of the range once, then none; a released one comes back.
        let mut seen = BTreeSet::from([a, b, peek, 31000]);
        while let Ok(p) = ports.allocate(false) {
            assert!(seen.insert(p), "port {p} handed out twice");
        }
        assert_eq!(seen.len(), RANGE.len());
        assert_eq!(ports.allocate(false), Err(PortError::Exhausted));
        ports.release([i64::from(b)]);
        assert_eq!(ports.allocate(false), Ok(b));
    }

    #[test]
    fn released_ports_are_not_reused_at_once() {
        let ports = NodePorts::default();
        let a = ports.allocate(false).unwrap();
        ports.release([i64::from(a)]);
        assert_ne!(
            ports.allocate(false).unwrap(),
            a,
            "the search goes on from the last port"
        );
    }
}
