#!/usr/bin/env python3
"""Generates src/sandbox/proto/schema.rs: the protobuf schema table of the built-in Kubernetes types.

Facts come from two crates in the local cargo registry:
  * k8s-pb 0.9.0 (prost code generated from Kubernetes' generated.proto files): per message, the
    field tags and wire types (`#[prost(string, optional, tag = "1")] pub name: ...`);
  * k8s-openapi 0.29.0 (`src/v1_33`): per type, the JSON name of each Rust field (the Deserialize
    impl's `"podIP" => Field::Key_pod_ip`), whether the field is required, and the
    (apiVersion, kind) of each top-level resource.
The two are joined on (module path, type name, Rust field name).

Optionally (`--go DIR=MODULE ...`), Go type definitions from checkouts of kubernetes/api,
kubernetes/apimachinery and kubernetes/apiextensions-apiserver refine the result with the facts
neither crate has: whether a scalar field is a Go pointer or lacks `omitempty` (then a zero value
sent on the wire is kept in JSON, e.g. `replicas: 0`; otherwise Go's JSON encoder would drop it),
the Go struct order of the fields (the JSON key order), and JSON names missing from k8s-openapi.
Without it, zero scalars are kept only for fields k8s-openapi marks required.

Usage:
  python3 tools/gen_proto_schema.py [--go /path/to/kubernetes-api=api \
      --go /path/to/apimachinery/pkg=apimachinery::pkg \
      --go /path/to/apiextensions-apiserver/pkg=apiextensions_apiserver::pkg] > src/sandbox/proto/schema.rs
"""

import argparse
import glob
import os
import re
import sys

# Modules (k8s-pb / k8s-openapi module paths) whose messages are included; their dependencies follow.
MODULES = [
    "api::core::v1",
    "api::apps::v1",
    "api::batch::v1",
    "api::rbac::v1",
    "api::authentication::v1",
    "api::authorization::v1",
    "api::coordination::v1",
    "api::events::v1",
    "api::admissionregistration::v1",
    "api::discovery::v1",
    "api::policy::v1",
    "api::networking::v1",
    "api::scheduling::v1",
    "api::storage::v1",
    "api::autoscaling::v1",
    "api::certificates::v1",
    "apiextensions_apiserver::pkg::apis::apiextensions::v1",
    "kube_aggregator::pkg::apis::apiregistration::v1",
    "apimachinery::pkg::apis::meta::v1",
    "apimachinery::pkg::api::resource",
    "apimachinery::pkg::util::intstr",
    "apimachinery::pkg::runtime",
]


def registry_dir(name):
    hits = sorted(glob.glob(os.path.expanduser(f"~/.cargo/registry/src/*/{name}")))
    if not hits:
        sys.exit(f"{name} not found in ~/.cargo/registry/src (run cargo fetch)")
    return hits[-1]


def split_type(text):
    """Reads a Rust type at the start of text up to the ',' at angle-bracket depth 0."""
    depth = 0
    for i, c in enumerate(text):
        if c == "<":
            depth += 1
        elif c == ">":
            depth -= 1
        elif c == "," and depth == 0:
            return text[:i]
    return text


def strip_ws(s):
    """Drops whitespace and rustfmt's trailing commas inside generics."""
    return re.sub(r"\s+", "", s).replace(",>", ">")


def resolve(module, path):
    """Resolves a Rust type path (relative with super::, or a bare name) against a module."""
    parts = module.split("::")
    segs = path.split("::")
    if len(segs) == 1:
        return f"{module}::{path}"
    while segs and segs[0] == "super":
        parts = parts[:-1]
        segs = segs[1:]
    return "::".join(parts + segs)


def inner_type(ty):
    ty = strip_ws(ty)
    for wrapper in ("::core::option::Option<", "::prost::alloc::vec::Vec<", "::prost::alloc::boxed::Box<"):
        while ty.startswith(wrapper):
            ty = ty[len(wrapper):-1]
    if ty.startswith("::prost::alloc::collections::BTreeMap<"):
        ty = ty[len("::prost::alloc::collections::BTreeMap<"):-1]
        ty = ty.split(",", 1)[1]
        for wrapper in ("::prost::alloc::boxed::Box<",):
            while ty.startswith(wrapper):
                ty = ty[len(wrapper):-1]
    return ty


def parse_pb(root):
    """module -> {TypeName: [(tag, rust_field, kind, label, value_type)]} (in declaration order)."""
    messages = {}
    for path in glob.glob(os.path.join(root, "src", "**", "mod.rs"), recursive=True):
        rel = os.path.relpath(os.path.dirname(path), os.path.join(root, "src"))
        module = rel.replace(os.sep, "::")
        text = open(path, encoding="utf-8").read()
        for m in re.finditer(r"pub struct (\w+) \{(\}|.*?\n\})", text, re.S):
            name, body = m.group(1), m.group(2)
            fields = []
            for fm in re.finditer(r"#\[prost\((.*?)\)\]\s*pub (?:r#)?(\w+):\s*", body, re.S):
                attr, rust = fm.group(1), fm.group(2)
                ty = split_type(body[fm.end():])
                tag = int(re.search(r'tag = "(\d+)"', attr).group(1))
                mm = re.search(r'btree_map = "string, (\w+)"', attr)
                if mm:
                    kind, label = mm.group(1), "map"
                else:
                    kind = attr.split(",")[0].strip().split(" ")[0]
                    label = "repeated" if "repeated" in attr else "optional"
                value = resolve(module, inner_type(ty)) if kind == "message" else None
                fields.append((tag, rust, kind, label, value))
            messages.setdefault(module, {})[name] = fields
    return messages


def parse_openapi(root):
    """module -> {lowercase TypeName: {rust_field: (json, required)}}, and [(apiVersion, kind, module, Type)]."""
    types, kinds = {}, []
    base = os.path.join(root, "src", "v1_33")
    for path in glob.glob(os.path.join(base, "**", "*.rs"), recursive=True):
        rel = os.path.relpath(os.path.dirname(path), base)
        module = rel.replace(os.sep, "::")
        text = open(path, encoding="utf-8").read()
        sm = re.search(r"pub struct (\w+) \{(.*?)\n\}", text, re.S)
        if not sm:
            continue
        name, body = sm.group(1), sm.group(2)
        required = {}
        for fm in re.finditer(r"pub (\w+): (.*?),\n", body):
            required[fm.group(1)] = not fm.group(2).startswith("Option<")
        fields = {}
        for jm in re.finditer(r'"([^"]+)" => Field::Key_(\w+)', text):
            json, rust = jm.group(1), jm.group(2)
            if json in ("apiVersion", "kind") and rust in ("api_version", "kind") and "const KIND" in text:
                continue
            fields[rust] = (json, required.get(rust, False))
        types.setdefault(module, {})[name.lower()] = fields
        av = re.search(r'const API_VERSION: &\'static str = "([^"]+)";', text)
        kd = re.search(r'const KIND: &\'static str = "([^"]+)";', text)
        if av and kd:
            kinds.append((av.group(1), kd.group(1), module, name))
    return types, kinds


def parse_go(specs):
    """(module, lowercase Type, tag) -> (json, omitempty, pointer, order)."""
    out = {}
    for spec in specs:
        root, prefix = spec.split("=", 1)
        for path in glob.glob(os.path.join(root, "**", "types*.go"), recursive=True):
            if path.endswith("_test.go"):
                continue
            rel = os.path.relpath(os.path.dirname(path), root)
            module = prefix if rel == "." else prefix + "::" + rel.replace(os.sep, "::").replace("-", "_")
            text = open(path, encoding="utf-8").read()
            for sm in re.finditer(r"^type (\w+) struct \{(.*?)^\}", text, re.S | re.M):
                name = sm.group(1).lower()
                for order, fm in enumerate(re.finditer(r"^\s*(?:\w+\s+)?([^\s`]+)\s+`([^`]*)`", sm.group(2), re.M)):
                    gotype, tags = fm.group(1), fm.group(2)
                    pm = re.search(r'protobuf:"\w+,(\d+),', tags)
                    if not pm:
                        continue
                    jm = re.search(r'json:"([^"]*)"', tags)
                    json, omitempty = None, True
                    if jm:
                        jparts = jm.group(1).split(",")
                        json = jparts[0] or ("" if "inline" in jparts[1:] else None)
                        if json == "-":
                            json = None
                        omitempty = "omitempty" in jparts[1:] or "omitzero" in jparts[1:]
                    out[(module, name, int(pm.group(1)))] = (json, omitempty, gotype.startswith("*"), order)
    return out


def camel(rust):
    head, *rest = rust.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


SCALARS = {"string": "Str", "bool": "Bool", "int32": "I32", "int64": "I64", "double": "F64", "bytes": "Bytes"}
MAPS = {"string": "MapStr", "bytes": "MapBytes"}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--go", action="append", default=[], metavar="DIR=MODULE")
    args = ap.parse_args()

    pb = parse_pb(registry_dir("k8s-pb-0.9.0"))
    oa, kinds = parse_openapi(registry_dir("k8s-openapi-0.29.0"))
    go = parse_go(args.go)

    # Included messages: every message of MODULES and, transitively, the messages they reference.
    todo = [f"{mod}::{name}" for mod in MODULES for name in pb.get(mod, {})]
    seen = set()
    while todo:
        full = todo.pop()
        if full in seen:
            continue
        seen.add(full)
        mod, name = full.rsplit("::", 1)
        if name not in pb.get(mod, {}):
            sys.exit(f"unresolved message {full}")
        for f in pb[mod][name]:
            if f[4]:
                todo.append(f[4])

    warnings = []
    lines = []
    for full in sorted(seen):
        mod, name = full.rsplit("::", 1)
        oa_fields = oa.get(mod, {}).get(name.lower())
        rows = []
        for idx, (tag, rust, kind, label, value) in enumerate(pb[mod][name]):
            g = go.get((mod, name.lower(), tag))
            json = required = None
            if oa_fields is not None:
                key = rust if rust in oa_fields else rust + "_"
                if key in oa_fields:
                    json, required = oa_fields[key]
            if json is None and g and g[0] is not None:
                json = g[0]
            if json is None and oa_fields is not None and kind == "message" and label == "optional":
                json = ""  # embedded struct: k8s-openapi has its fields in the parent
            if json is None:
                json = camel(rust)
                warnings.append(f"{full}.{rust}: JSON name guessed as {json}")
            if json == "":
                ty, card = f'Msg("{value}")', "Inline"
            elif label == "map":
                ty = f'MapMsg("{value}")' if kind == "message" else MAPS[kind]
                card = "Rep"
            else:
                ty = f'Msg("{value}")' if kind == "message" else SCALARS[kind]
                if label == "repeated":
                    card = "Rep"
                elif kind == "message":
                    card = "One"  # a message sent is always kept (Go encodes structs even when empty)
                elif g is not None:
                    card = "Keep" if (g[2] or not g[1]) else "One"
                else:
                    card = "Keep" if required else "One"
            order = g[3] if g else 1000 + idx
            rows.append((order, idx, f'        f({tag}, "{json}", {ty}, {card}),'))
        rows.sort()
        lines.append(f'    ("{full}", &[')
        lines.extend(r[2] for r in rows)
        lines.append("    ]),")

    kind_rows = []
    for api_version, kind, mod, name in kinds:
        pb_name = next((n for n in pb.get(mod, {}) if n.lower() == name.lower()), None)
        if pb_name and f"{mod}::{pb_name}" in seen:
            kind_rows.append((api_version, kind, f"{mod}::{pb_name}"))
            if f"{mod}::{pb_name}List" in seen:
                kind_rows.append((api_version, kind + "List", f"{mod}::{pb_name}List"))
    kind_lines = [f'    ("{a}", "{k}", "{m}"),' for a, k, m in sorted(set(kind_rows))]

    out = sys.stdout
    out.write("// @generated by tools/gen_proto_schema.py from k8s-pb 0.9.0 and k8s-openapi 0.29.0 (v1_33)")
    out.write(" with Go field facts\n" if go else "\n")
    out.write("// Do not edit: rerun the generator. One line per field: tag, JSON name, type, cardinality.\n")
    out.write("use super::{Card::*, Field, Ty::*, f};\n\n")
    out.write("/// Every message type, sorted by name, with its fields in JSON order.\n")
    out.write("pub static MESSAGES: &[(&str, &[Field])] = &[\n")
    out.write("\n".join(lines))
    out.write("\n];\n\n/// (apiVersion, kind) -> message type, sorted.\n")
    out.write("pub static KINDS: &[(&str, &str, &str)] = &[\n")
    out.write("\n".join(kind_lines))
    out.write("\n];\n")
    for w in warnings:
        print("warning:", w, file=sys.stderr)


if __name__ == "__main__":
    main()
