//! Builders of the Kubernetes and Linkerd objects tests store, as the JSON
//! `kubectl apply` would send.
//!
//! Tests describe a cluster by the objects in it; written out in full, the
//! same pod or Server took ten lines in every test folder, each a little
//! different. A builder states only what a test cares about (a label, a
//! ServiceAccount, a proxy container) and leaves out every field it was not
//! given, so the object is the one the test would have written by hand.

use serde_json::{Map, Value, json};
use strait_mesh::names::PROXY_CONTAINER;

/// The API group of Linkerd's policy resources.
const POLICY_GROUP: &str = "policy.linkerd.io";

/// A Namespace.
pub fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

/// `{"name", "namespace"}`, with `labels` when there are any.
fn metadata(namespace: &str, name: &str, labels: &Map<String, Value>) -> Value {
    let mut metadata = json!({"name": name, "namespace": namespace});
    if !labels.is_empty() {
        metadata["labels"] = Value::Object(labels.clone());
    }
    metadata
}

/// A Pod: [`pod`] starts one with no containers.
#[derive(Clone, Debug)]
pub struct Pod {
    namespace: String,
    name: String,
    labels: Map<String, Value>,
    service_account: Option<String>,
    containers: Vec<Value>,
    ip: Option<String>,
}

/// A Pod named `name` in `namespace`.
pub fn pod(namespace: &str, name: &str) -> Pod {
    Pod {
        namespace: namespace.to_string(),
        name: name.to_string(),
        labels: Map::new(),
        service_account: None,
        containers: Vec::new(),
        ip: None,
    }
}

impl Pod {
    /// Adds the label `key: value` (what Servers and Services select on).
    pub fn label(mut self, key: &str, value: &str) -> Pod {
        self.labels.insert(key.to_string(), value.into());
        self
    }

    /// Runs the pod as ServiceAccount `sa`: its mesh identity.
    pub fn service_account(mut self, sa: &str) -> Pod {
        self.service_account = Some(sa.to_string());
        self
    }

    /// Adds a container `name` with the named container ports `ports`.
    pub fn container(self, name: &str, ports: &[(&str, u16)]) -> Pod {
        let ports: Vec<Value> = ports
            .iter()
            .map(|(port_name, port)| json!({"name": port_name, "containerPort": port}))
            .collect();
        self.container_json(json!({"name": name, "ports": ports}))
    }

    /// Adds a container written out in full (probes, images, ...).
    pub fn container_json(mut self, container: Value) -> Pod {
        self.containers.push(container);
        self
    }

    /// Adds the proxy container, which is what makes a pod meshed.
    pub fn meshed(self) -> Pod {
        self.container_json(json!({"name": PROXY_CONTAINER}))
    }

    /// Gives the pod its address in `status`, as the kubelet reports it.
    pub fn ip(mut self, ip: &str) -> Pod {
        self.ip = Some(ip.to_string());
        self
    }

    /// The Pod as JSON.
    pub fn build(self) -> Value {
        let mut spec = json!({"containers": self.containers});
        if let Some(sa) = self.service_account {
            spec["serviceAccountName"] = sa.into();
        }
        let mut pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": metadata(&self.namespace, &self.name, &self.labels),
            "spec": spec,
        });
        if let Some(ip) = self.ip {
            pod["status"] = json!({"podIP": ip, "podIPs": [{"ip": ip}]});
        }
        pod
    }
}

impl From<Pod> for Value {
    fn from(pod: Pod) -> Value {
        pod.build()
    }
}

/// A Service: [`service`] starts one with no ports.
#[derive(Clone, Debug)]
pub struct Service {
    namespace: String,
    name: String,
    labels: Map<String, Value>,
    cluster_ip: Option<String>,
    selector: Map<String, Value>,
    ports: Vec<Value>,
}

/// A Service named `name` in `namespace`.
pub fn service(namespace: &str, name: &str) -> Service {
    Service {
        namespace: namespace.to_string(),
        name: name.to_string(),
        labels: Map::new(),
        cluster_ip: None,
        selector: Map::new(),
        ports: Vec::new(),
    }
}

impl Service {
    /// Adds the label `key: value` (how mirrors and exports are marked).
    pub fn label(mut self, key: &str, value: &str) -> Service {
        self.labels.insert(key.to_string(), value.into());
        self
    }

    /// Sets the ClusterIP, instead of the one the store would allocate.
    pub fn cluster_ip(mut self, ip: &str) -> Service {
        self.cluster_ip = Some(ip.to_string());
        self
    }

    /// Selects the pods labelled `key: value`.
    pub fn selector(mut self, key: &str, value: &str) -> Service {
        self.selector.insert(key.to_string(), value.into());
        self
    }

    /// Adds port `name` = `port`, to `target` (a number or a container
    /// port's name).
    pub fn port(mut self, name: &str, port: u16, target: impl Into<Value>) -> Service {
        self.ports
            .push(json!({"name": name, "port": port, "targetPort": target.into()}));
        self
    }

    /// The Service as JSON.
    pub fn build(self) -> Value {
        let mut spec = json!({"ports": self.ports});
        if let Some(ip) = self.cluster_ip {
            spec["clusterIP"] = ip.into();
        }
        if !self.selector.is_empty() {
            spec["selector"] = Value::Object(self.selector);
        }
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": metadata(&self.namespace, &self.name, &self.labels),
            "spec": spec,
        })
    }
}

impl From<Service> for Value {
    fn from(service: Service) -> Value {
        service.build()
    }
}

/// An EndpointSlice: [`endpoint_slice`] starts one with no endpoints.
#[derive(Clone, Debug)]
pub struct EndpointSlice {
    namespace: String,
    name: String,
    service: String,
    endpoints: Vec<Value>,
    ports: Vec<Value>,
}

/// An IPv4 EndpointSlice `name` of Service `service`, both in `namespace`.
pub fn endpoint_slice(namespace: &str, name: &str, service: &str) -> EndpointSlice {
    EndpointSlice {
        namespace: namespace.to_string(),
        name: name.to_string(),
        service: service.to_string(),
        endpoints: Vec::new(),
        ports: Vec::new(),
    }
}

impl EndpointSlice {
    /// Adds pod `pod` of the slice's namespace at `ip`, ready or not.
    pub fn endpoint(mut self, ip: &str, pod: &str, ready: bool) -> EndpointSlice {
        self.endpoints.push(json!({
            "addresses": [ip],
            "conditions": {"ready": ready},
            "targetRef": {"kind": "Pod", "name": pod, "namespace": self.namespace}
        }));
        self
    }

    /// Adds TCP port `name` = `port`.
    pub fn port(mut self, name: &str, port: u16) -> EndpointSlice {
        self.ports
            .push(json!({"name": name, "port": port, "protocol": "TCP"}));
        self
    }

    /// The EndpointSlice as JSON.
    pub fn build(self) -> Value {
        json!({
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": self.name, "namespace": self.namespace,
                         "labels": {"kubernetes.io/service-name": self.service}},
            "addressType": "IPv4",
            "endpoints": self.endpoints,
            "ports": self.ports,
        })
    }
}

impl From<EndpointSlice> for Value {
    fn from(slice: EndpointSlice) -> Value {
        slice.build()
    }
}

/// A Server (`policy.linkerd.io/v1beta1`) selecting the pods labelled
/// `app: <app>` on `port` (a number or a container port's name), with
/// Linkerd's default protocol detection.
pub fn server(namespace: &str, name: &str, app: &str, port: impl Into<Value>) -> Value {
    json!({
        "apiVersion": "policy.linkerd.io/v1beta1", "kind": "Server",
        "metadata": {"namespace": namespace, "name": name},
        "spec": {"podSelector": {"matchLabels": {"app": app}}, "port": port.into()}
    })
}

/// [`server`] with `proxyProtocol` set (`opaque`, `HTTP/2`, ...).
pub fn server_with_protocol(
    namespace: &str,
    name: &str,
    app: &str,
    port: impl Into<Value>,
    protocol: &str,
) -> Value {
    let mut server = server(namespace, name, app, port);
    server["spec"]["proxyProtocol"] = protocol.into();
    server
}

/// An AuthorizationPolicy admitting to Server `server` the clients that
/// pass the MeshTLSAuthentication `authentication`.
pub fn authorization_policy(
    namespace: &str,
    name: &str,
    server: &str,
    authentication: &str,
) -> Value {
    json!({
        "apiVersion": "policy.linkerd.io/v1alpha1", "kind": "AuthorizationPolicy",
        "metadata": {"namespace": namespace, "name": name},
        "spec": {
            "targetRef": {"group": POLICY_GROUP, "kind": "Server", "name": server},
            "requiredAuthenticationRefs": [
                {"group": POLICY_GROUP, "kind": "MeshTLSAuthentication", "name": authentication}
            ]
        }
    })
}

/// An HTTPRoute of API group `group` (`policy.linkerd.io`, whose version
/// is `v1beta3`, or `gateway.networking.k8s.io`, `v1`) attached to Server
/// `server`, taking the requests whose path is under `prefix`.
pub fn http_route(namespace: &str, name: &str, group: &str, server: &str, prefix: &str) -> Value {
    let version = if group == POLICY_GROUP {
        "v1beta3"
    } else {
        "v1"
    };
    json!({
        "apiVersion": format!("{group}/{version}"), "kind": "HTTPRoute",
        "metadata": {"namespace": namespace, "name": name},
        "spec": {
            "parentRefs": [{"group": POLICY_GROUP, "kind": "Server", "name": server}],
            "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": prefix}}]}]
        }
    })
}

/// [`authorization_policy`] on the HTTPRoute `route` of API group `group`
/// rather than on a Server: it admits requests on that route only.
pub fn route_authorization_policy(
    namespace: &str,
    name: &str,
    group: &str,
    route: &str,
    authentication: &str,
) -> Value {
    let mut policy = authorization_policy(namespace, name, route, authentication);
    policy["spec"]["targetRef"] = json!({"group": group, "kind": "HTTPRoute", "name": route});
    policy
}

/// A MeshTLSAuthentication passing the mesh identities `identities`.
pub fn mesh_tls_authentication(namespace: &str, name: &str, identities: &[&str]) -> Value {
    json!({
        "apiVersion": "policy.linkerd.io/v1alpha1", "kind": "MeshTLSAuthentication",
        "metadata": {"namespace": namespace, "name": name},
        "spec": {"identities": identities}
    })
}

#[cfg(test)]
mod tests;

/// A Link kubeconfig whose user runs a command (`users[0].user.exec`) that
/// would send the controller's own token away: what strait must refuse.
pub const EXEC_KUBECONFIG: &str = r#"
apiVersion: v1
kind: Config
current-context: east
contexts:
- name: east
  context: {cluster: east, user: mirror}
clusters:
- name: east
  cluster: {server: "https://203.0.113.1:6443"}
users:
- name: mirror
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: /bin/sh
      args: ["-c", "cat /var/run/secrets/kubernetes.io/serviceaccount/token"]
"#;
