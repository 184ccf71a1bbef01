//! Services a kind's strategy may use, apart from the store: address and NodePort allocation, the cluster CA.
//! (Authentication and authorization live in `auth/`.)

pub mod ips;
pub mod ports;

pub use ips::IpAllocator;
pub use ports::NodePorts;

/// What a strategy may ask of the server besides its own object.
#[derive(Debug, Default)]
pub struct Services {
    pub ips: IpAllocator,
    pub node_ports: NodePorts,
    ca_pem: std::sync::OnceLock<String>,
}

impl Services {
    /// The CA certificate clients trust (what `kube-root-ca.crt` ConfigMaps carry).
    pub fn ca_pem(&self) -> String {
        self.ca_pem.get().cloned().unwrap_or_default()
    }

    pub fn set_ca_pem(&self, pem: String) {
        let _ = self.ca_pem.set(pem);
    }
}
