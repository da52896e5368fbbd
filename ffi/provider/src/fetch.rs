//! OpenSSL's default implementations, fetched explicitly (`provider=default`, default
//! library context) so that nothing here can ever select this provider again.

use std::sync::OnceLock;

use foreign_types::ForeignType;
use openssl::hash::MessageDigest;
use openssl::md::Md;
use openssl::provider::Provider;

/// Loads OpenSSL's `default` provider into the default library context once, for a
/// configuration that activated only this provider (kept for the process). Returns
/// whether it is (now) available.
pub fn ensure_default() -> bool {
    static LOADED: OnceLock<Option<Provider>> = OnceLock::new();
    let p = LOADED.get_or_init(|| {
        let r = Provider::try_load(None, "default", true).ok();
        let _ = openssl::error::ErrorStack::get();
        r
    });
    p.is_some()
}

/// The default provider's digest `name` as a `MessageDigest` for `openssl::hash::Hasher`,
/// fetched once per name and kept for the process.
pub fn default_digest(name: &'static str) -> Option<MessageDigest> {
    use std::collections::HashMap;
    use std::sync::Mutex;
    static CACHE: Mutex<Option<HashMap<&'static str, Option<&'static Md>>>> = Mutex::new(None);
    let mut g = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    let map = g.get_or_insert_with(HashMap::new);
    let md = *map.entry(name).or_insert_with(|| {
        let fetch = || Md::fetch(None, name, Some("provider=default")).ok();
        let r = fetch().or_else(|| if ensure_default() { fetch() } else { None });
        // A failed fetch queues an error the application did not cause.
        let _ = openssl::error::ErrorStack::get();
        // Kept for the process: the `MessageDigest` handles below point into it.
        r.map(|m| &*Box::leak(Box::new(m)))
    });
    // SAFETY: `md` is a fetched EVP_MD leaked for the process lifetime, so the raw pointer
    // inside the `MessageDigest` stays valid for every `Hasher` made from it.
    md.map(|m| unsafe { MessageDigest::from_ptr(m.as_ptr()) })
}
