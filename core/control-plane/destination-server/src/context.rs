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
