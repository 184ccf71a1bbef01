//! The transport layer: TLS, routing and the codec (`http`), discovery documents, watch streams.
//! Nothing here knows a kind: requests are decoded once and handed to the store layer.

pub mod aggregated;
pub mod codec;
pub mod discovery;
pub mod exec;
pub mod http;
pub mod server;
pub mod tls;
pub mod watch;
