// The login page: check the key with /v1/whoami, keep it in this tab, open the role's page.
import { ApiProblem, api, signIn } from "./api.js";

const form = document.getElementById("login-form");
const error = document.getElementById("login-error");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.textContent = "";
  const key = document.getElementById("api-key").value.trim();
  try {
    const me = await api("/v1/whoami", { key });
    signIn(key, me);
    location.assign(me.pages.length ? me.pages[0].href : "/docs");
  } catch (problem) {
    error.textContent = problem instanceof ApiProblem && problem.status === 401
      ? "That key is unknown or its user is inactive." : `Could not sign in: ${problem.message}`;
  }
});
