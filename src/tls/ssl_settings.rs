//! The per-handshake OpenSSL settings the `openssl` crate has no safe call for on an `SslRef`:
//! the key-exchange groups (`curvePreferences`) and TLS 1.2 session tickets
//! (`disableSessionTickets`). Called from the client-hello callback only.

use foreign_types::ForeignTypeRef;
use openssl::error::ErrorStack;
use openssl::ssl::SslRef;
use std::ffi::CString;

extern "C" {
    // OpenSSL 1.1.0 and later: a function (`uint64_t` in 3.x, `unsigned long` before; the same
    // width on the 64-bit targets pylon builds for).
    fn SSL_set_options(ssl: *mut openssl_sys::SSL, options: u64) -> u64;
}

/// `SSL_OP_NO_TICKET`.
const NO_TICKET: u64 = 0x0000_4000;

/// Restricts the handshake's key-exchange groups to `groups` (OpenSSL names joined by `:`).
pub fn set_groups(ssl: &mut SslRef, groups: &CString) -> Result<(), ErrorStack> {
    // SAFETY: `ssl` is a live SSL object borrowed mutably for the call; `groups` is a valid
    // NUL-terminated string OpenSSL copies before returning.
    let ok = unsafe { openssl_sys::SSL_set1_groups_list(ssl.as_ptr(), groups.as_ptr()) };
    match ok {
        1 => Ok(()),
        _ => Err(ErrorStack::get()),
    }
}

/// No session tickets on this handshake: none issued in TLS 1.3, none accepted or issued in
/// TLS 1.2.
pub fn disable_session_tickets(ssl: &mut SslRef) -> Result<(), ErrorStack> {
    ssl.set_num_tickets(0)?;
    // SAFETY: `ssl` is a live SSL object borrowed mutably; setting an option flag has no
    // other precondition.
    unsafe { SSL_set_options(ssl.as_ptr(), NO_TICKET) };
    Ok(())
}
