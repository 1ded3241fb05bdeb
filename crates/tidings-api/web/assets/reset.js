// The page of password reset and invitation links (/reset-password?token=tdp_…): choose a new
// password with the link's token; without a token, ask for a link by e-mail.

import { request } from "./api.js";
import { $, initBanner, show } from "./dom.js";

initBanner();

const token = new URLSearchParams(location.search).get("token");

/** Submits a form's request, showing the envelope's message under it when it fails. */
function wire(form, error, submit, run) {
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    show(error, false);
    submit.disabled = true;
    try {
      await run();
    } catch (err) {
      error.textContent = err.message;
      show(error, true);
    } finally {
      submit.disabled = false;
    }
  });
}

if (token) {
  show($("confirm-form"), true);
  wire($("confirm-form"), $("confirm-error"), $("confirm-submit"), async () => {
    await request("POST", "/v1/auth/password-reset/confirm", { body: { token, password: $("confirm-password").value } });
    // The token is spent: keep it out of the history.
    history.replaceState(null, "", "/reset-password");
    show($("confirm-form"), false);
    show($("confirm-done"), true);
  });
} else {
  show($("request-form"), true);
  wire($("request-form"), $("request-error"), $("request-submit"), async () => {
    await request("POST", "/v1/auth/password-reset", { body: { email: $("request-email").value.trim() } });
    show($("request-done"), true);
  });
}
