// Progressive enhancement: a "copy" button beside each secret shown once (the field itself is
// selectable and readonly, so copying works without this script too).
document.querySelectorAll("input[data-copy]").forEach((field) => {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "copy";
  // The texts come from the page, in its language.
  const done = field.dataset.copied;
  button.textContent = field.dataset.copy;
  button.addEventListener("click", async () => {
    field.select();
    try {
      await navigator.clipboard.writeText(field.value);
      button.textContent = done;
    } catch {
      document.execCommand("copy");
      button.textContent = done;
    }
  });
  field.insertAdjacentElement("afterend", button);
});
