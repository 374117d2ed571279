//! HTTPS: rustls (its `ring` provider) through futures-rustls, trusting webpki-roots' Mozilla
//! roots and, with `--cacert`, the certificates of a PEM file too.

use std::io;
use std::path::Path;
use std::sync::Arc;

use futures_rustls::pki_types::pem::PemObject;
use futures_rustls::pki_types::{CertificateDer, ServerName};
use futures_rustls::rustls::{ClientConfig, RootCertStore};
use futures_rustls::TlsConnector;

/// A TLS client that trusts webpki-roots plus every certificate in `cacert`, and offers only
/// HTTP/1.1 by ALPN (the only protocol the fetcher speaks).
///
/// # Errors
///
/// If `cacert` cannot be read, holds no PEM certificate, or holds one rustls rejects as a root.
pub fn connector(cacert: Option<&Path>) -> Result<TlsConnector, String> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = cacert {
        let shown = path.display();
        let mut added = 0;
        let certs =
            CertificateDer::pem_file_iter(path).map_err(|e| format!("--cacert {shown}: {e}"))?;
        for cert in certs {
            let cert = cert.map_err(|e| format!("--cacert {shown}: {e}"))?;
            roots
                .add(cert)
                .map_err(|e| format!("--cacert {shown}: not a usable root: {e}"))?;
            added += 1;
        }
        if added == 0 {
            return Err(format!("--cacert {shown}: no PEM certificate in it"));
        }
    }
    let mut config = ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsConnector::from(Arc::new(config)))
}

/// The name the certificate must match, sent as SNI (rustls sends none for an IP address).
pub fn server_name(host: &url::Host<&str>) -> io::Result<ServerName<'static>> {
    match host {
        url::Host::Domain(name) => ServerName::try_from(name.to_string())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("host {name}: {e}"))),
        url::Host::Ipv4(ip) => Ok(ServerName::IpAddress((*ip).into())),
        url::Host::Ipv6(ip) => Ok(ServerName::IpAddress((*ip).into())),
    }
}
