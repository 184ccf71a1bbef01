//! Merge keys and list types of built-in kinds, from the Kubernetes OpenAPI
//! (`x-kubernetes-patch-merge-key`, `x-kubernetes-list-type`, `x-kubernetes-list-map-keys`).
