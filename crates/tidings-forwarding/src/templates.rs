//! The e-mails Tidings sends, rendered as a subject and the same content in plain text and HTML.
//! Every interpolated value is HTML-escaped in the HTML part; subjects are kept to one line.

use chrono::{DateTime, Utc};
use tidings_domain::{AccountEmail, Role};

use crate::mail::Email;

/// Longest error text quoted in an e-mail.
const MAX_ERROR: usize = 500;

/// An account e-mail to `to` (whose display name is `name`): a password reset link or an invitation.
pub fn account(to: &str, name: &str, email: &AccountEmail) -> Email {
    match email {
        AccountEmail::PasswordReset { link, expires_at } => password_reset(to, name, link, *expires_at),
        AccountEmail::Invitation { company_name, invited_by, role, has_password, link, expires_at } => {
            let invitation =
                Invitation { company_name, invited_by, role: *role, has_password: *has_password };
            self::invitation(to, name, &invitation, link, *expires_at)
        }
    }
}

/// A link to choose a new password, valid once until `expires_at`.
pub fn password_reset(to: &str, name: &str, link: &str, expires_at: DateTime<Utc>) -> Email {
    let until = time(expires_at);
    let text = format!(
        "Hello {name},\n\n\
         someone (hopefully you) asked to reset the password of your Tidings account {to}.\n\
         Choose a new password here; the link works once, until {until}:\n\n\
         {link}\n\n\
         If you did not ask for this, ignore this e-mail: your password stays as it is.\n"
    );
    let html = page(&format!(
        "<p>Hello {name},</p>\
         <p>someone (hopefully you) asked to reset the password of your Tidings account {to}.</p>\
         <p>{button}</p>\
         <p>The link works once, until {until}. If the button does not work, copy this address into \
         your browser:<br>{link}</p>\
         <p>If you did not ask for this, ignore this e-mail: your password stays as it is.</p>",
        name = escape(name),
        to = escape(to),
        button = button(link, "Choose a new password"),
        until = escape(&until),
        link = escape(link),
    ));
    Email { to: to.to_owned(), subject: "Reset your Tidings password".into(), text, html }
}

/// What an invitation says besides its link.
struct Invitation<'a> {
    company_name: &'a str,
    invited_by: &'a str,
    role: Role,
    has_password: bool,
}

/// Tells a new member of a company's team that they were added, with a link to choose a password.
fn invitation(
    to: &str,
    name: &str,
    invitation: &Invitation<'_>,
    link: &str,
    expires_at: DateTime<Utc>,
) -> Email {
    let Invitation { company_name, invited_by, role, has_password } = *invitation;
    let role = match role {
        Role::Agent => "an agent",
        Role::Admin => "an admin",
        Role::Owner => "an owner",
    };
    let until = time(expires_at);
    let how = if has_password {
        format!(
            "You can log in with your e-mail address {to} and the password you were given, or choose \
             your own password with this link; it works once, until {until}:"
        )
    } else {
        format!(
            "To log in with your e-mail address {to}, choose your password with this link; it works once, until {until}:"
        )
    };
    let text = format!(
        "Hello {name},\n\n\
         {invited_by} added you to the team of {company_name} on Tidings, as {role}.\n\
         {how}\n\n\
         {link}\n"
    );
    let html = page(&format!(
        "<p>Hello {name},</p>\
         <p>{invited_by} added you to the team of <strong>{company}</strong> on Tidings, as {role}.</p>\
         <p>{how}</p>\
         <p>{button}</p>\
         <p>If the button does not work, copy this address into your browser:<br>{link}</p>",
        name = escape(name),
        invited_by = escape(invited_by),
        company = escape(company_name),
        how = escape(&how),
        button = button(link, "Choose your password"),
        link = escape(link),
    ));
    let subject = one_line(&format!("You were added to {company_name} on Tidings"));
    Email { to: to.to_owned(), subject, text, html }
}

/// Tells one of a company's owners that Tidings stopped calling one of its webhook endpoints after
/// repeated failures, with the endpoint's URL and the last error.
pub fn webhook_endpoint_disabled(
    to: &str,
    endpoint_url: &str,
    last_error: &str,
    disabled_at: DateTime<Utc>,
) -> Email {
    let last_error: String = last_error.chars().take(MAX_ERROR).collect();
    let at = time(disabled_at);
    let text = format!(
        "Hello,\n\n\
         Tidings stopped sending events to your webhook endpoint\n\n\
         {endpoint_url}\n\n\
         at {at}, after its calls kept failing. The last error was:\n\n\
         {last_error}\n\n\
         Events that occur while it is disabled are not sent to it. Once the endpoint answers again, \
         enable it again in your webhook settings.\n"
    );
    let html = page(&format!(
        "<p>Hello,</p>\
         <p>Tidings stopped sending events to your webhook endpoint <code>{url}</code> at {at}, after its \
         calls kept failing. The last error was:</p>\
         <pre>{error}</pre>\
         <p>Events that occur while it is disabled are not sent to it. Once the endpoint answers again, \
         enable it again in your webhook settings.</p>",
        url = escape(endpoint_url),
        at = escape(&at),
        error = escape(&last_error),
    ));
    Email { to: to.to_owned(), subject: "A webhook endpoint was disabled".into(), text, html }
}

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// A link styled as a button; `link` is escaped here.
fn button(link: &str, label: &str) -> String {
    format!(
        "<a href=\"{}\" style=\"display:inline-block;padding:10px 16px;background:#2563eb;color:#ffffff;\
         text-decoration:none;border-radius:6px\">{}</a>",
        escape(link),
        escape(label)
    )
}

/// The HTML document around a body that is already escaped.
pub(crate) fn page(body: &str) -> String {
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head>\
         <body style=\"font-family:sans-serif;line-height:1.5;color:#111827\">{body}</body></html>"
    )
}

/// A subject line: control characters (a line break could start a header) become spaces, and it
/// stops at 150 characters.
pub(crate) fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).take(150).collect()
}

fn time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 14, 30, 0).single().unwrap_or_default()
    }

    #[test]
    fn html_escapes_every_value_and_text_keeps_them() {
        let link = "https://app.example/reset-password?token=tdp_a&x=<b>";
        let email = password_reset("ada@acme.test", "<script>alert('x')</script>", link, at());
        assert!(!email.html.contains("<script>"), "{}", email.html);
        assert!(email.html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        assert!(
            email.html.contains("href=\"https://app.example/reset-password?token=tdp_a&amp;x=&lt;b&gt;\"")
        );
        assert!(email.text.contains(link) && email.text.contains("<script>alert('x')</script>"));
        assert!(email.text.contains("2026-12-01 14:30 UTC"));
        assert_eq!(email.to, "ada@acme.test");
    }

    fn invite(has_password: bool) -> AccountEmail {
        AccountEmail::Invitation {
            company_name: "Acme & Sons\r\nBcc: x@evil.test".into(),
            invited_by: "Grace <g@acme.test>".into(),
            role: Role::Admin,
            has_password,
            link: "http://127.0.0.1:8080/reset-password?token=tdp_x".into(),
            expires_at: at(),
        }
    }

    #[test]
    fn invitations_say_who_where_and_how_to_log_in() {
        let email = account("bob@acme.test", "Bob", &invite(false));
        assert_eq!(email.subject, "You were added to Acme & Sons  Bcc: x@evil.test on Tidings");
        assert!(email.text.contains("Grace <g@acme.test> added you to the team of Acme & Sons"));
        assert!(email.text.contains("as an admin") && email.text.contains("choose your password"));
        assert!(email.html.contains("Acme &amp; Sons") && email.html.contains("Grace &lt;g@acme.test&gt;"));
        let email = account("bob@acme.test", "Bob", &invite(true));
        assert!(email.text.contains("the password you were given"), "{}", email.text);
    }

    #[test]
    fn a_disabled_endpoint_names_its_url_and_last_error() {
        let error = format!("502 Bad Gateway: <html>{}</html>", "x".repeat(600));
        let email =
            webhook_endpoint_disabled("owner@acme.test", "https://hooks.acme.test/t?a=1&b=2", &error, at());
        assert!(email.text.contains("https://hooks.acme.test/t?a=1&b=2"));
        assert!(email.html.contains("https://hooks.acme.test/t?a=1&amp;b=2"));
        assert!(email.html.contains("502 Bad Gateway: &lt;html&gt;") && !email.html.contains("<html>x"));
        assert!(!email.text.contains(&"x".repeat(MAX_ERROR)), "the error is clipped");
    }
}
