// The Two-factor authentication page (templates/admin/two_factor.html): once django-otp-webauthn's
// script has registered a passkey, send its name; Enter in the name field registers, as the button does.
const form = document.getElementById("passkey-name-form");

document.addEventListener("otp_webauthn.register_complete", (event) => {
  form.elements.credential.value = event.detail.id;
  form.submit();
});

form.addEventListener("submit", (event) => {
  if (!form.elements.credential.value) {
    event.preventDefault();
    document.getElementById("passkey-register-button")?.click();
  }
});
