// The login form: e-mail and password; a refusal shows the server's message under the form.

import { $, show } from "./dom.js";
import * as session from "./session.js";

/** Wires the form; `onLoggedIn()` runs after a successful login. */
export function initLogin(onLoggedIn) {
  const form = $("login-form");
  const error = $("login-error");
  const submit = $("login-submit");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    show(error, false);
    submit.disabled = true;
    try {
      await session.login($("login-email").value.trim(), $("login-password").value);
      $("login-password").value = "";
      onLoggedIn();
    } catch (err) {
      error.textContent = err.message;
      show(error, true);
    } finally {
      submit.disabled = false;
    }
  });
}

/** Shows the login form. */
export function showLogin() {
  show($("loading"), false);
  show($("inbox"), false);
  show($("login"), true);
  $("login-email").focus();
}
