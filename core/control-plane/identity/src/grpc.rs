//! The `io.linkerd.proxy.identity.Identity` gRPC service: a thin mapping of
//! [`Certifier::certify`] onto Linkerd's proxy API.

use std::sync::Arc;

use linkerd2_proxy_api::identity::identity_server::{Identity, IdentityServer};
use linkerd2_proxy_api::identity::{CertifyRequest, CertifyResponse};
use tonic::{Request, Response, Status};

use crate::certify::{Certifier, CertifyError};
use crate::token::TokenValidator;

/// Serves `Certify` for one cluster: tokens checked by `V`, certificates
/// issued by a shared [`Certifier`].
#[derive(Debug)]
pub struct IdentityService<V> {
    certifier: Arc<Certifier>,
    validator: V,
}

impl<V: TokenValidator> IdentityService<V> {
    /// A service issuing through `certifier` for tokens `validator` accepts.
    pub fn new(certifier: Arc<Certifier>, validator: V) -> Self {
        IdentityService {
            certifier,
            validator,
        }
    }

    /// The tonic service, to add to a server.
    pub fn into_server(self) -> IdentityServer<Self> {
        IdentityServer::new(self)
    }
}

/// Maps a refusal to the gRPC code Linkerd's proxies expect: the request
/// was wrong (InvalidArgument), the caller is not who it claims
/// (Unauthenticated), or the server failed (Internal).
pub fn status_for(error: &CertifyError) -> Status {
    match error {
        CertifyError::Token(_) => Status::unauthenticated(error.to_string()),
        CertifyError::IdentityMismatch { .. } | CertifyError::Csr(_) => {
            Status::invalid_argument(error.to_string())
        }
        CertifyError::Signing(_) => Status::internal(error.to_string()),
    }
}

#[tonic::async_trait]
impl<V: TokenValidator> Identity for IdentityService<V> {
    async fn certify(
        &self,
        request: Request<CertifyRequest>,
    ) -> Result<Response<CertifyResponse>, Status> {
        let CertifyRequest {
            identity,
            token,
            certificate_signing_request,
        } = request.into_inner();
        match self
            .certifier
            .certify(
                &self.validator,
                &identity,
                &token,
                &certificate_signing_request,
            )
            .await
        {
            Ok(issued) => Ok(Response::new(CertifyResponse {
                leaf_certificate: issued.leaf_der,
                intermediate_certificates: issued.chain_der,
                valid_until: Some(issued.valid_until.into()),
            })),
            Err(error) => {
                tracing::info!(%identity, %error, "refused a certification request");
                Err(status_for(&error))
            }
        }
    }
}
