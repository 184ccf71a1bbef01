//! The decoder against real kubectl bodies (the expected JSON is what `kubectl --dry-run=client -o json`
//! prints for the same command, i.e. Go's JSON of the same object) and hand-encoded messages.

use super::*;
use serde_json::json;

// --- A tiny protobuf encoder for hand-made messages ---

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A varint field.
fn v(tag: u32, value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    varint(u64::from(tag) << 3, &mut out);
    varint(value, &mut out);
    out
}

/// A length-delimited field.
fn b(tag: u32, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    varint((u64::from(tag) << 3) | 2, &mut out);
    varint(value.len() as u64, &mut out);
    out.extend_from_slice(value);
    out
}

fn s(tag: u32, value: &str) -> Vec<u8> {
    b(tag, value.as_bytes())
}

fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

/// A map<string, string> entry field.
fn entry(tag: u32, key: &str, value: &str) -> Vec<u8> {
    b(tag, &cat(&[s(1, key), s(2, value)]))
}

/// A Go-encoded ObjectMeta with a name: every non-pointer field is on the wire, zero or not.
fn object_meta(name: &str, extra: &[Vec<u8>]) -> Vec<u8> {
    let mut m = cat(&[
        s(1, name),
        s(2, ""),
        s(3, ""),
        s(4, ""),
        s(5, ""),
        s(6, ""),
        v(7, 0),
        b(8, &[]),
    ]);
    for e in extra {
        m.extend_from_slice(e);
    }
    m
}

fn envelope(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
    let type_meta = cat(&[s(1, api_version), s(2, kind)]);
    let mut body = b"k8s\0".to_vec();
    body.extend(cat(&[b(1, &type_meta), b(2, raw), s(3, ""), s(4, "")]));
    body
}

fn hex(h: &str) -> Vec<u8> {
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).expect("hex fixture"))
        .collect()
}

fn assert_kubectl_fixture(body_hex: &str, expected: &str) {
    let got = decode(&hex(body_hex)).expect("fixture decodes");
    let expected: Value = serde_json::from_str(expected).expect("expected JSON");
    assert_eq!(got, expected, "\n got: {got}\nwant: {expected}");
}

// --- Real kubectl bodies ---

/// `kubectl create namespace cap` (kubectl 1.33, captured with `-v=9`).
#[test]
fn kubectl_namespace() {
    assert_kubectl_fixture(
        "6b3873000a0f0a02763112094e616d657370616365121b0a130a0363617012001a0022002a0032003800420012001a020a001a002200",
        r#"{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"cap","creationTimestamp":null},"spec":{},"status":{}}"#,
    );
}
/// `kubectl create deployment web --image=nginx:1.27 --replicas=3` (kubectl 1.33, captured with `-v=9`).
#[test]
fn kubectl_deployment() {
    assert_kubectl_fixture(
        "6b3873000a150a07617070732f7631120a4465706c6f796d656e7412b0010a1f0a0377656212001a0022002a003200380042005a0a0a036170701203776562127f0803120c0a0a0a0361707012037765621a650a1c0a0012001a0022002a003200380042005a0a0a036170701203776562124512270a056e67696e78120a6e67696e783a312e32372a0042006a007200800100880100900100a201001a00320042004a0052005800600068008201008a01009a0100c2010022020a00280038001a0c0800100018002000280038001a002200",
        r#"{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"web","creationTimestamp":null,"labels":{"app":"web"}},"spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"creationTimestamp":null,"labels":{"app":"web"}},"spec":{"containers":[{"name":"nginx","image":"nginx:1.27","resources":{}}]}},"strategy":{}},"status":{}}"#,
    );
}
/// `kubectl create configmap settings --from-literal=color=blue --from-literal=size=L` (kubectl 1.33, captured with `-v=9`).
#[test]
fn kubectl_configmap() {
    assert_kubectl_fixture(
        "6b3873000a0f0a0276311209436f6e6669674d617012340a180a0873657474696e677312001a0022002a00320038004200120d0a05636f6c6f721204626c756512090a0473697a6512014c1a002200",
        r#"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"settings","creationTimestamp":null},"data":{"color":"blue","size":"L"}}"#,
    );
}
/// `kubectl create secret generic creds --from-literal=password=s3cr3t` (kubectl 1.33, captured with `-v=9`).
#[test]
fn kubectl_secret_with_bytes_data() {
    assert_kubectl_fixture(
        "6b3873000a0c0a0276311206536563726574122d0a150a05637265647312001a0022002a0032003800420012120a0870617373776f726412067333637233741a001a002200",
        r#"{"kind":"Secret","apiVersion":"v1","metadata":{"name":"creds","creationTimestamp":null},"data":{"password":"czNjcjN0"}}"#,
    );
}
/// `kubectl create service clusterip web --tcp=80:8080` (kubectl 1.33, captured with `-v=9`).
#[test]
fn kubectl_service_with_int_target_port() {
    assert_kubectl_fixture(
        "6b3873000a0d0a02763112075365727669636512690a1f0a0377656212001a0022002a003200380042005a0a0a03617070120377656212420a1b0a0738302d38303830120354435018502207080010903f1a002800120a0a0361707012037765621a002209436c757374657249503a00420052005a00600068001a020a001a002200",
        r#"{"kind":"Service","apiVersion":"v1","metadata":{"name":"web","creationTimestamp":null,"labels":{"app":"web"}},"spec":{"ports":[{"name":"80-8080","protocol":"TCP","port":80,"targetPort":8080}],"selector":{"app":"web"},"type":"ClusterIP"},"status":{"loadBalancer":{}}}"#,
    );
}
/// `kubectl create service nodeport np --tcp=8443:https` (kubectl 1.33, captured with `-v=9`).
#[test]
fn kubectl_service_with_named_target_port() {
    assert_kubectl_fixture(
        "6b3873000a0d0a027631120753657276696365126d0a1d0a026e7012001a0022002a003200380042005a090a0361707012026e7012480a230a0a383434332d6874747073120354435018fb41220b080110001a056874747073280012090a0361707012026e701a0022084e6f6465506f72743a00420052005a00600068001a020a001a002200",
        r#"{"kind":"Service","apiVersion":"v1","metadata":{"name":"np","creationTimestamp":null,"labels":{"app":"np"}},"spec":{"ports":[{"name":"8443-https","protocol":"TCP","port":8443,"targetPort":"https"}],"selector":{"app":"np"},"type":"NodePort"},"status":{"loadBalancer":{}}}"#,
    );
}
/// `kubectl create priorityclass urgent --value=1000 --description=x` (kubectl 1.33, captured with `-v=9`).
#[test]
fn kubectl_priority_class() {
    assert_kubectl_fixture(
        "6b3873000a250a147363686564756c696e672e6b38732e696f2f7631120d5072696f72697479436c61737312360a160a06757267656e7412001a0022002a0032003800420010e80718002201782a14507265656d70744c6f7765725072696f726974791a002200",
        r#"{"kind":"PriorityClass","apiVersion":"scheduling.k8s.io/v1","metadata":{"name":"urgent","creationTimestamp":null},"value":1000,"description":"x","preemptionPolicy":"PreemptLowerPriority"}"#,
    );
}
/// `kubectl create clusterrole cr --verb=get --resource=pods` (kubectl 1.33, captured with `-v=9`).
#[test]
fn kubectl_cluster_role() {
    assert_kubectl_fixture(
        "6b3873000a2b0a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f7631120b436c7573746572526f6c6512230a120a02637212001a0022002a00320038004200120d0a0367657412001a04706f64731a002200",
        r#"{"kind":"ClusterRole","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"name":"cr","creationTimestamp":null},"rules":[{"verbs":["get"],"apiGroups":[""],"resources":["pods"]}]}"#,
    );
}
/// `kubectl create job once --image=busybox:1.36 -- echo hi` (kubectl 1.33, captured with `-v=9`).
#[test]
fn kubectl_job() {
    assert_kubectl_fixture(
        "6b3873000a0f0a0862617463682f763112034a6f62128d010a140a046f6e636512001a0022002a00320038004200126b32690a100a0012001a0022002a00320038004200125512320a046f6e6365120c62757379626f783a312e33361a046563686f1a0268692a0042006a007200800100880100900100a201001a054e65766572320042004a0052005800600068008201008a01009a0100c201001a082000280030003a001a002200",
        r#"{"kind":"Job","apiVersion":"batch/v1","metadata":{"name":"once","creationTimestamp":null},"spec":{"template":{"metadata":{"creationTimestamp":null},"spec":{"containers":[{"name":"once","image":"busybox:1.36","command":["echo","hi"],"resources":{}}],"restartPolicy":"Never"}}},"status":{}}"#,
    );
}

#[test]
fn apiversion_and_kind_come_first() {
    let body = envelope("v1", "ConfigMap", &b(1, &object_meta("c", &[])));
    let got = decode(&body).expect("decodes");
    let keys: Vec<&str> = got
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["apiVersion", "kind", "metadata"]);
}

// --- Hand-encoded messages ---

#[test]
fn object_meta_zero_fields_dropped_time_null_and_pointers_kept() {
    let meta = object_meta(
        "m",
        &[
            entry(11, "app", "web"),
            entry(12, "note", ""),
            v(10, 0), // deletionGracePeriodSeconds: *int64, an explicit 0 is kept
            s(14, "example.com/cleanup"),
        ],
    );
    let got = decode(&envelope("v1", "ConfigMap", &b(1, &meta))).expect("decodes");
    assert_eq!(
        got["metadata"],
        json!({
            "name": "m",
            "creationTimestamp": null,
            "deletionGracePeriodSeconds": 0,
            "labels": {"app": "web"},
            "annotations": {"note": ""},
            "finalizers": ["example.com/cleanup"],
        })
    );
    // Absent on the wire: absent in JSON.
    let got = decode(&envelope("v1", "ConfigMap", &b(1, &s(1, "bare")))).expect("decodes");
    assert_eq!(got["metadata"], json!({"name": "bare"}));
}

#[test]
fn times_and_micro_times() {
    // 2026-01-01T00:00:00Z = 1767225600; nanos are dropped for Time, truncated to micros for MicroTime.
    let ts = cat(&[v(1, 1_767_225_600), v(2, 123_456_789)]);
    let meta = cat(&[s(1, "t"), b(8, &ts), b(9, &cat(&[v(1, 1_767_225_601)]))]);
    let got = decode(&envelope("v1", "Namespace", &b(1, &meta))).expect("decodes");
    assert_eq!(got["metadata"]["creationTimestamp"], "2026-01-01T00:00:00Z");
    assert_eq!(got["metadata"]["deletionTimestamp"], "2026-01-01T00:00:01Z");

    // coordination.k8s.io Lease: acquireTime is a MicroTime, leaseDurationSeconds a pointer.
    let spec = cat(&[s(1, "holder"), v(2, 15), b(3, &ts)]);
    let got = decode(&envelope(
        "coordination.k8s.io/v1",
        "Lease",
        &cat(&[b(1, &s(1, "l")), b(2, &spec)]),
    ))
    .expect("decodes");
    assert_eq!(
        got["spec"],
        json!({"holderIdentity": "holder", "leaseDurationSeconds": 15, "acquireTime": "2026-01-01T00:00:00.123456Z"})
    );
}

#[test]
fn go_durations() {
    for (nanos, want) in [
        (0, "0s"),
        (1, "1ns"),
        (1_500, "1.5µs"),
        (1_500_000, "1.5ms"),
        (1_000_000_000, "1s"),
        (90_000_000_000, "1m30s"),
        (3_600_000_000_000, "1h0m0s"),
        (3_723_500_000_000, "1h2m3.5s"),
        (-2_000_000_000, "-2s"),
    ] {
        assert_eq!(go_duration(nanos), want, "{nanos}ns");
    }
    // Duration on the wire: message { int64 duration = 1 }.
    assert_eq!(
        duration(&v(1, 300_000_000_000)).expect("decodes"),
        json!("5m0s")
    );
}

#[test]
fn service_with_int_or_string_ports_and_inline_selector_refs() {
    let port_int = cat(&[
        s(1, "http"),
        s(2, "TCP"),
        v(3, 80),
        b(4, &cat(&[v(1, 0), v(2, 8080), s(3, "")])),
    ]);
    let port_str = cat(&[
        s(1, "web"),
        s(2, "TCP"),
        v(3, 443),
        b(4, &cat(&[v(1, 1), v(2, 0), s(3, "https")])),
    ]);
    let spec = cat(&[
        b(1, &port_int),
        b(1, &port_str),
        entry(2, "app", "web"),
        s(4, "ClusterIP"),
    ]);
    let got = decode(&envelope(
        "v1",
        "Service",
        &cat(&[b(1, &object_meta("web", &[])), b(2, &spec)]),
    ))
    .expect("decodes");
    assert_eq!(
        got["spec"],
        json!({
            "ports": [
                {"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080},
                {"name": "web", "protocol": "TCP", "port": 443, "targetPort": "https"},
            ],
            "selector": {"app": "web"},
            "type": "ClusterIP",
        })
    );
}

#[test]
fn pod_with_env_from_config_map_quantities_and_zero_pointer_fields() {
    // env[0].valueFrom.configMapKeyRef embeds LocalObjectReference (Go inline): {name, key}.
    let key_ref = cat(&[b(1, &s(1, "settings")), s(2, "color")]);
    let env = cat(&[s(1, "COLOR"), s(2, ""), b(3, &b(3, &key_ref))]);
    let resources = cat(&[
        b(1, &cat(&[s(1, "cpu"), b(2, &s(1, "500m"))])),
        b(2, &cat(&[s(1, "memory"), b(2, &s(1, "64Mi"))])),
    ]);
    let container = cat(&[
        s(1, "app"),
        s(2, "busybox:1.36"),
        s(3, "sleep"),
        s(4, "3600"),
        b(7, &env),
        b(8, &resources),
        v(16, 0),
    ]);
    // automountServiceAccountToken (*bool) false is kept; hostNetwork (bool) false is dropped.
    let spec = cat(&[b(2, &container), s(3, "Never"), v(21, 0), v(11, 0), v(4, 0)]);
    let got = decode(&envelope(
        "v1",
        "Pod",
        &cat(&[b(1, &object_meta("p", &[])), b(2, &spec), b(3, &[])]),
    ))
    .expect("decodes");
    assert_eq!(
        got,
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p", "creationTimestamp": null},
            "spec": {
                "containers": [{
                    "name": "app",
                    "image": "busybox:1.36",
                    "command": ["sleep"],
                    "args": ["3600"],
                    "env": [{"name": "COLOR", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "color"}}}],
                    "resources": {"limits": {"cpu": "500m"}, "requests": {"memory": "64Mi"}},
                }],
                "restartPolicy": "Never",
                "terminationGracePeriodSeconds": 0,
                "automountServiceAccountToken": false,
            },
            "status": {},
        })
    );
}

#[test]
fn deployment_replicas_zero_is_kept() {
    let spec = cat(&[v(1, 0), b(2, &[]), b(3, &[]), b(4, &[])]);
    let got = decode(&envelope(
        "apps/v1",
        "Deployment",
        &cat(&[b(1, &s(1, "d")), b(2, &spec)]),
    ))
    .expect("decodes");
    assert_eq!(
        got["spec"],
        json!({"replicas": 0, "selector": {}, "template": {}, "strategy": {}})
    );
}

#[test]
fn raw_extension_and_fields_v1_are_embedded_json() {
    // ControllerRevision.data is a RawExtension; managedFields[].fieldsV1 a FieldsV1.
    let fields = cat(&[
        s(1, "kubectl"),
        s(2, "Apply"),
        s(3, "apps/v1"),
        s(6, "FieldsV1"),
        b(7, &s(1, r#"{"f:data":{}}"#)),
    ]);
    let meta = cat(&[s(1, "rev"), b(17, &fields)]);
    let raw = cat(&[
        b(1, &meta),
        b(2, &s(1, r#"{"spec":{"replicas":2}}"#)),
        v(3, 4),
    ]);
    let got = decode(&envelope("apps/v1", "ControllerRevision", &raw)).expect("decodes");
    assert_eq!(got["data"], json!({"spec": {"replicas": 2}}));
    assert_eq!(got["revision"], 4);
    assert_eq!(
        got["metadata"]["managedFields"][0],
        json!({"manager": "kubectl", "operation": "Apply", "apiVersion": "apps/v1", "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {}}})
    );
}

#[test]
fn crd_schema_or_bool_or_array_forms() {
    let string_schema = cat(&[s(5, "string")]);
    let props = cat(&[
        s(5, "object"),
        b(29, &cat(&[s(1, "name"), b(2, &string_schema)])),
        b(30, &v(1, 1)),              // additionalProperties: true
        b(24, &b(1, &string_schema)), // items: one schema
        b(8, &s(1, r#""x""#)),        // default: "x"
        v(38, 1),                     // x-kubernetes-preserve-unknown-fields
    ]);
    let validation = b(1, &props);
    let version = cat(&[s(1, "v1"), v(2, 1), v(3, 1), b(4, &validation)]);
    let names = cat(&[
        s(1, "widgets"),
        s(2, "widget"),
        s(4, "Widget"),
        s(5, "WidgetList"),
    ]);
    let spec = cat(&[
        s(1, "example.com"),
        b(3, &names),
        s(4, "Namespaced"),
        b(7, &version),
    ]);
    let got = decode(&envelope(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        &cat(&[b(1, &s(1, "widgets.example.com")), b(2, &spec)]),
    ))
    .expect("decodes");
    assert_eq!(
        got["spec"]["versions"][0]["schema"]["openAPIV3Schema"],
        json!({
            "type": "object",
            "default": "x",
            "items": {"type": "string"},
            "properties": {"name": {"type": "string"}},
            "additionalProperties": true,
            "x-kubernetes-preserve-unknown-fields": true,
        })
    );
    assert_eq!(
        got["spec"]["names"],
        json!({"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"})
    );
}

#[test]
fn unknown_fields_are_skipped_and_packed_repeated_numbers_read() {
    // An unknown tag (99) of each wire type is skipped.
    let mut meta = s(1, "x");
    meta.extend(v(99, 7));
    meta.extend(b(98, b"junk"));
    varint(97 << 3 | 1, &mut meta); // fixed64
    meta.extend([1, 2, 3, 4, 5, 6, 7, 8]);
    varint(96 << 3 | 5, &mut meta); // fixed32
    meta.extend([1, 2, 3, 4]);
    let got = decode(&envelope("v1", "ConfigMap", &b(1, &meta))).expect("decodes");
    assert_eq!(got["metadata"], json!({"name": "x"}));
    // PodSecurityContext.supplementalGroups (repeated int64), packed.
    let mut packed = Vec::new();
    for g in [1000u64, 2000] {
        varint(g, &mut packed);
    }
    let spec = cat(&[b(14, &b(4, &packed))]);
    let got = decode(&envelope(
        "v1",
        "Pod",
        &cat(&[b(1, &s(1, "p")), b(2, &spec)]),
    ))
    .expect("decodes");
    assert_eq!(
        got["spec"]["securityContext"]["supplementalGroups"],
        json!([1000, 2000])
    );
}

#[test]
fn bad_bodies_give_clear_errors() {
    let err = |body: &[u8]| decode(body).expect_err("must fail");
    assert!(err(b"{\"kind\":\"Pod\"}").contains("magic"));
    assert!(err(&envelope("v1", "Gizmo", &[])).contains("no protobuf schema for Gizmo in v1"));
    assert!(err(&envelope("example.com/v1", "Widget", &[])).contains("no protobuf schema"));
    assert!(err(b"k8s\0").contains("no apiVersion or kind"));
    let mut truncated = envelope("v1", "ConfigMap", &b(1, &s(1, "x")));
    truncated.truncate(truncated.len() - 6);
    assert!(err(&truncated).contains("truncated"), "{}", err(&truncated));
    // A string field sent as a varint.
    assert!(err(&envelope("v1", "ConfigMap", &b(1, &v(1, 5)))).contains("ObjectMeta.name"));
    // Invalid UTF-8 in a string.
    assert!(err(&envelope("v1", "ConfigMap", &b(1, &b(1, &[0xff, 0xfe])))).contains("UTF-8"));
    // Deep nesting is refused, not a stack overflow (JSONSchemaProps.not nested 200 times).
    let mut props = s(5, "object");
    for _ in 0..200 {
        props = b(28, &props);
    }
    let crd = cat(&[b(1, &s(1, "x")), b(2, &b(7, &b(4, &b(1, &props))))]);
    assert!(
        err(&envelope(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            &crd
        ))
        .contains("nested too deeply")
    );
    // A compressed envelope.
    let mut gz = b"k8s\0".to_vec();
    gz.extend(cat(&[
        b(1, &cat(&[s(1, "v1"), s(2, "ConfigMap")])),
        b(2, &[]),
        s(3, "gzip"),
    ]));
    assert!(err(&gz).contains("contentEncoding"));
}

#[test]
fn delete_options_in_any_group_version() {
    let body = envelope(
        "apps/v1",
        "DeleteOptions",
        &cat(&[v(1, 0), s(4, "Foreground")]),
    );
    assert_eq!(
        decode(&body).expect("decodes"),
        json!({"apiVersion": "apps/v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0, "propagationPolicy": "Foreground"})
    );
}

#[test]
fn schema_table_is_sorted_and_closed() {
    let names: Vec<&str> = schema::MESSAGES.iter().map(|(n, _)| *n).collect();
    assert!(
        names.windows(2).all(|w| w[0] < w[1]),
        "MESSAGES must be sorted for binary search"
    );
    let kinds: Vec<(&str, &str)> = schema::KINDS.iter().map(|(a, k, _)| (*a, *k)).collect();
    assert!(
        kinds.windows(2).all(|w| w[0] < w[1]),
        "KINDS must be sorted for binary search"
    );
    for (_, _, m) in schema::KINDS {
        assert!(lookup(m).is_some(), "{m}");
    }
    for (name, fields) in schema::MESSAGES {
        for f in *fields {
            if let Ty::Msg(m) | Ty::MapMsg(m) = f.ty {
                assert!(
                    lookup(m).is_some(),
                    "{name}.{} refers to unknown {m}",
                    f.json
                );
            }
        }
    }
    // Every kind the sandbox serves has a schema.
    for (api_version, kind) in [
        ("v1", "Namespace"),
        ("v1", "Pod"),
        ("v1", "Service"),
        ("v1", "Secret"),
        ("v1", "ServiceAccount"),
        ("v1", "PersistentVolumeClaim"),
        ("apps/v1", "Deployment"),
        ("apps/v1", "StatefulSet"),
        ("batch/v1", "CronJob"),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
        ("coordination.k8s.io/v1", "Lease"),
        ("events.k8s.io/v1", "Event"),
        (
            "admissionregistration.k8s.io/v1",
            "ValidatingAdmissionPolicyBinding",
        ),
        ("discovery.k8s.io/v1", "EndpointSlice"),
        ("policy/v1", "PodDisruptionBudget"),
        ("policy/v1", "Eviction"),
        ("networking.k8s.io/v1", "Ingress"),
        ("scheduling.k8s.io/v1", "PriorityClass"),
        ("storage.k8s.io/v1", "StorageClass"),
        ("autoscaling/v1", "Scale"),
        ("apiregistration.k8s.io/v1", "APIService"),
    ] {
        assert!(
            message_for(api_version, kind).is_some(),
            "{api_version} {kind}"
        );
    }
}
