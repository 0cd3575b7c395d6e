// The chat page's script: the Ambiorix documentation's chat (section 15.6.1) written with the
// client generated from schema/messages.yaml, so every name and payload below is checked by tsc.
// Bundled into ../static/app.js by `go generate` (see ../main.go).
import { CallError } from "../../../ts/src/index.js";
import { connect } from "../../../ts/src/gen/messages.js";

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`chat page: element #${id} is missing`);
  return el as T;
}

const status = byId<HTMLElement>("status");
const count = byId<HTMLOutputElement>("count");
const messages = byId<HTMLUListElement>("messages");
const input = byId<HTMLInputElement>("msg");
const greeting = byId<HTMLOutputElement>("greeting");
const sum = byId<HTMLOutputElement>("sum");
const reload = byId<HTMLElement>("reload");

// connect() opens ws(s)://<page host>/ like ambiorix.js, and reconnects after the server restarts.
const chat = connect();

function showStatus(): void {
  status.textContent = chat.status;
  status.dataset["status"] = chat.status;
  // The server's verdict on this page's schema (the version handshake): after a deploy that
  // changed the schema in a way this page cannot follow, the server says "reload". The page asks
  // its user to, and keeps working meanwhile; once asked, it keeps asking.
  status.dataset["version"] = chat.version.status;
  if (chat.version.status === "reload") reload.hidden = false;
}
chat.client.onopen = showStatus;
chat.client.onclose = showStatus;
chat.client.onversion = showStatus;
showStatus();

chat.on.chat((msg) => {
  const li = document.createElement("li");
  li.textContent = msg;
  messages.appendChild(li);
  li.scrollIntoView({ block: "nearest" });
});
chat.on.greeting((msg) => {
  greeting.textContent = msg;
});
chat.on.update((u) => {
  count.textContent = String(u.count);
});

// While the socket is down (a server restart), sends are queued by the client and go out when it
// reconnects, so the page can clear the input at once.
byId<HTMLFormElement>("chat-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  if (input.value === "") return;
  chat.send.chat(input.value);
  input.value = "";
});

byId<HTMLButtonElement>("greet").addEventListener("click", () => {
  chat.send.greeting("Hello from the browser!");
});

byId<HTMLFormElement>("add-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const a = byId<HTMLInputElement>("a").valueAsNumber;
  const b = byId<HTMLInputElement>("b").valueAsNumber;
  sum.textContent = "…";
  chat.call.add({ a, b }, { timeout: 2000 }).then(
    (n) => {
      sum.textContent = String(n);
    },
    (err: unknown) => {
      sum.textContent = err instanceof CallError ? `error: ${err.code}` : `error: ${String(err)}`;
    },
  );
});
