//! The context token a proxy sends with each request.

/// The namespace of the asking pod, read from a `Get` or `GetProfile`
/// context token, so a bare Service name (`bb:8080`) is completed as the
/// asking pod's DNS search path would.
///
/// Linkerd's proxy sends JSON (`{"ns":"<ns>","nodeName":"...","pod":"..."}`);
/// older proxies sent `ns:<ns>`. Anything else, or an empty namespace, gives
/// `None`: a bare name then cannot be resolved, while every other form still
/// can.
pub fn default_namespace(context_token: &str) -> Option<String> {
    let token = context_token.trim();
    let namespace = if token.starts_with('{') {
        let value: serde_json::Value = serde_json::from_str(token).ok()?;
        value.get("ns")?.as_str()?.to_string()
    } else {
        token.strip_prefix("ns:")?.trim().to_string()
    };
    Some(namespace).filter(|ns| !ns.is_empty())
}

#[cfg(test)]
mod tests;

/// Whether the asking proxy says it is a multicluster gateway
/// (`"gateway":true` in its JSON token). A gateway is then answered only
/// for Services its cluster exports through it: anything else is refused
/// with `PERMISSION_DENIED`, which the gateway passes on as 403. The claim
/// needs no proof, since it only narrows what the asker is told.
pub fn is_gateway(context_token: &str) -> bool {
    let token = context_token.trim();
    token.starts_with('{')
        && serde_json::from_str::<serde_json::Value>(token)
            .ok()
            .and_then(|value| value.get("gateway")?.as_bool())
            .unwrap_or(false)
}
