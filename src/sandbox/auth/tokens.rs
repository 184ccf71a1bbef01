//! ServiceAccount tokens: signed (HMAC-SHA256 JWTs, key per sandbox), tied to the ServiceAccount's uid, with expiry;
//! the TokenRequest subresource and the legacy token Secrets a controller fills in.

use crate::sandbox::auth::user::User;
use crate::sandbox::controllers::key;
use crate::sandbox::status::ApiError;
use crate::sandbox::store::api::Api;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::hmac;
use serde_json::{Value, json};

/// The audience (and issuer) of tokens for the API server itself, as on a real cluster.
pub const API_AUDIENCE: &str = "https://kubernetes.default.svc.cluster.local";
/// The issuer of the legacy tokens kept in Secrets.
pub const LEGACY_ISSUER: &str = "kubernetes/serviceaccount";
/// The Secret type the legacy token controller fills in.
pub const SECRET_TYPE: &str = "kubernetes.io/service-account-token";
pub const SA_NAME_ANNOTATION: &str = "kubernetes.io/service-account.name";
pub const SA_UID_ANNOTATION: &str = "kubernetes.io/service-account.uid";
/// TokenRequest bounds and default, as kube-apiserver validates them.
pub const MIN_EXPIRATION: i64 = 600;
pub const MAX_EXPIRATION: i64 = 1 << 32;
pub const DEFAULT_EXPIRATION: i64 = 3600;

pub use crate::sandbox::auth::user::sa_username;

/// A new random signing key.
pub fn random_key() -> Vec<u8> {
    use rand::Rng;
    let bytes: [u8; 32] = rand::rng().random();
    bytes.to_vec()
}

fn sign(key: &[u8], claims: &Value) -> String {
    let k = hmac::Key::new(hmac::HMAC_SHA256, key);
    let kid = URL_SAFE_NO_PAD.encode(&hmac::sign(&k, b"oplab-key-id").as_ref()[..12]);
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "HS256", "kid": kid}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signed = format!("{header}.{payload}");
    let sig = URL_SAFE_NO_PAD.encode(hmac::sign(&k, signed.as_bytes()).as_ref());
    format!("{signed}.{sig}")
}

/// The claims of a token this sandbox signed, or None for anything else.
fn verify(key: &[u8], token: &str) -> Option<Value> {
    let (signed, sig) = token.rsplit_once('.')?;
    let (_, payload) = signed.split_once('.')?;
    let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
    let k = hmac::Key::new(hmac::HMAC_SHA256, key);
    hmac::verify(&k, signed.as_bytes(), &sig).ok()?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

fn rfc3339(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// The ServiceAccount's uid, if it exists and is not being deleted.
fn live_sa_uid(api: &Api, ns: &str, name: &str) -> Option<String> {
    let sa = api.store.get(&key("", "serviceaccounts"), ns, name)?;
    if !sa["metadata"]["deletionTimestamp"].is_null() {
        return None;
    }
    sa["metadata"]["uid"].as_str().map(String::from)
}

/// The user of a ServiceAccount token, if the token is valid now: signed here, not expired, meant for the
/// API server, and its ServiceAccount (and Secret, for legacy tokens) still the one it was issued for.
pub fn authenticate(api: &Api, token: &str) -> Option<User> {
    authenticate_for(api, token, &[API_AUDIENCE.to_string()]).map(|(user, _)| user)
}

/// Audience-agnostic credentials (the admin token, legacy Secret tokens) count as meant for the API server's
/// own audience: the audiences of `wanted` they satisfy (kube-apiserver's `WrapAudienceAgnosticToken`,
/// staging/src/k8s.io/apiserver/pkg/authentication/authenticator/audiences.go).
pub fn implicit_audiences(wanted: &[String]) -> Vec<String> {
    wanted
        .iter()
        .filter(|a| a.as_str() == API_AUDIENCE)
        .cloned()
        .collect()
}

/// The user of a ServiceAccount token valid for at least one of `wanted` audiences, with the audiences it
/// is valid for (a TokenReview's `status.audiences`).
pub fn authenticate_for(api: &Api, token: &str, wanted: &[String]) -> Option<(User, Vec<String>)> {
    let claims = verify(&api.auth.signing_key(), token)?;
    if claims["iss"] == LEGACY_ISSUER {
        let ns = claims["kubernetes.io/serviceaccount/namespace"].as_str()?;
        let name = claims["kubernetes.io/serviceaccount/service-account.name"].as_str()?;
        let uid = claims["kubernetes.io/serviceaccount/service-account.uid"].as_str()?;
        let secret_name = claims["kubernetes.io/serviceaccount/secret.name"].as_str()?;
        let secret = api.store.get(&key("", "secrets"), ns, secret_name)?;
        let kept = secret["data"]["token"].as_str()?;
        if kept != STANDARD.encode(token) || !secret["metadata"]["deletionTimestamp"].is_null() {
            return None;
        }
        let audiences = implicit_audiences(wanted);
        return (live_sa_uid(api, ns, name)? == uid && !audiences.is_empty())
            .then(|| (User::service_account(ns, name, uid), audiences));
    }
    if claims["iss"] != API_AUDIENCE {
        return None;
    }
    let now = now();
    let exp = claims["exp"].as_i64()?;
    if exp <= now || claims["nbf"].as_i64().is_some_and(|nbf| nbf > now + 60) {
        return None;
    }
    let audiences: Vec<String> = match &claims["aud"] {
        Value::String(a) => vec![a.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    };
    let audiences: Vec<String> = wanted
        .iter()
        .filter(|w| audiences.contains(w))
        .cloned()
        .collect();
    if audiences.is_empty() {
        return None;
    }
    let k = &claims["kubernetes.io"];
    let ns = k["namespace"].as_str()?;
    let name = k["serviceaccount"]["name"].as_str()?;
    let uid = k["serviceaccount"]["uid"].as_str()?;
    if live_sa_uid(api, ns, name)? != uid {
        return None;
    }
    let mut user = User::service_account(ns, name, uid);
    if let Some(jti) = claims["jti"].as_str() {
        user.extra.insert(
            "authentication.kubernetes.io/credential-id".into(),
            vec![format!("JTI={jti}")],
        );
    }
    Some((user, audiences))
}

/// Issues a token for a ServiceAccount with a given lifetime; returns it and its expiry time.
pub fn issue(
    api: &Api,
    ns: &str,
    name: &str,
    uid: &str,
    audiences: &[String],
    seconds: i64,
) -> (String, String) {
    let iat = now();
    let exp = iat + seconds;
    let claims = json!({
        "aud": audiences,
        "exp": exp,
        "iat": iat,
        "iss": API_AUDIENCE,
        "jti": crate::sandbox::meta::new_uid(),
        "kubernetes.io": {"namespace": ns, "serviceaccount": {"name": name, "uid": uid}},
        "nbf": iat,
        "sub": sa_username(ns, name),
    });
    (sign(&api.auth.signing_key(), &claims), rfc3339(exp))
}

fn invalid(name: &str, field: &str, value: &Value, detail: &str) -> ApiError {
    let message = format!(
        "TokenRequest.authentication.k8s.io {name:?} is invalid: {field}: Invalid value: {value}: {detail}"
    );
    ApiError::invalid(
        "authentication.k8s.io",
        "TokenRequest",
        name,
        message,
        json!([{"reason": "FieldValueInvalid", "message": format!("Invalid value: {value}: {detail}"), "field": field}]),
    )
}

/// POST `.../serviceaccounts/{name}/token`: a TokenRequest answered with a fresh token.
pub fn token_request(api: &Api, ns: &str, name: &str, body: &Value) -> Result<Value, ApiError> {
    if let Some(kind) = body["kind"].as_str()
        && kind != "TokenRequest"
    {
        return Err(ApiError::bad_request(format!(
            "the body of the request must be a TokenRequest (authentication.k8s.io/v1), got kind {kind:?}"
        )));
    }
    if let Some(n) = body["metadata"]["name"].as_str()
        && !n.is_empty()
        && n != name
    {
        return Err(invalid(
            name,
            "metadata.name",
            &json!(n),
            "must match the service account name if specified",
        ));
    }
    let spec = &body["spec"];
    let seconds = match &spec["expirationSeconds"] {
        Value::Null => DEFAULT_EXPIRATION,
        v => v.as_i64().ok_or_else(|| {
            ApiError::bad_request(format!(
                "TokenRequest in version \"v1\" cannot be handled as a TokenRequest: spec.expirationSeconds must be an integer, got {v}"
            ))
        })?,
    };
    if seconds < MIN_EXPIRATION {
        return Err(invalid(
            name,
            "spec.expirationSeconds",
            &json!(seconds),
            "may not specify a duration less than 10 minutes",
        ));
    }
    if seconds > MAX_EXPIRATION {
        return Err(invalid(
            name,
            "spec.expirationSeconds",
            &json!(seconds),
            "may not specify a duration larger than 2^32 seconds",
        ));
    }
    let Some(uid) = live_sa_uid(api, ns, name) else {
        return Err(ApiError::not_found("", "serviceaccounts", name));
    };
    let mut audiences: Vec<String> = spec["audiences"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a.as_str().map(String::from))
        .collect();
    if audiences.is_empty() {
        audiences.push(API_AUDIENCE.into());
    }
    let (token, expires) = issue(api, ns, name, &uid, &audiences, seconds);
    Ok(json!({
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": name, "namespace": ns, "creationTimestamp": null},
        "spec": {"audiences": audiences, "expirationSeconds": seconds, "boundObjectRef": spec["boundObjectRef"].clone()},
        "status": {"token": token, "expirationTimestamp": expires},
    }))
}

/// The legacy token controller: a Secret of type `kubernetes.io/service-account-token` naming an existing
/// ServiceAccount gets `data.token`, `data.ca.crt` and `data.namespace` (and the SA's uid annotation).
pub fn fill_legacy_secret(api: &Api, secret: &Value) {
    if secret["type"] != SECRET_TYPE || !secret["metadata"]["deletionTimestamp"].is_null() {
        return;
    }
    let ns = secret["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let secret_name = secret["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let Some(sa_name) = secret["metadata"]["annotations"][SA_NAME_ANNOTATION]
        .as_str()
        .map(String::from)
    else {
        return;
    };
    let Some(uid) = live_sa_uid(api, &ns, &sa_name) else {
        return;
    };
    // Filled once; a token of a deleted ServiceAccount stays invalid even if one of that name comes back.
    if secret["data"]["token"].is_string() {
        return;
    }
    let claims = json!({
        "iss": LEGACY_ISSUER,
        "kubernetes.io/serviceaccount/namespace": ns,
        "kubernetes.io/serviceaccount/secret.name": secret_name,
        "kubernetes.io/serviceaccount/service-account.name": sa_name,
        "kubernetes.io/serviceaccount/service-account.uid": uid,
        "sub": sa_username(&ns, &sa_name),
    });
    let token = sign(&api.auth.signing_key(), &claims);
    let ca = api.ca_pem();
    api.mutate(&key("", "secrets"), &ns, &secret_name, |s| {
        if !s["data"].is_object() {
            s["data"] = json!({});
        }
        s["data"]["token"] = json!(STANDARD.encode(&token));
        s["data"]["ca.crt"] = json!(STANDARD.encode(&ca));
        s["data"]["namespace"] = json!(STANDARD.encode(&ns));
        if !s["metadata"]["annotations"].is_object() {
            s["metadata"]["annotations"] = json!({});
        }
        s["metadata"]["annotations"][SA_UID_ANNOTATION] = json!(uid);
        true
    });
}
