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

const randomCount = byId<HTMLOutputElement>("random-count");
const randomUsers = byId<HTMLOutputElement>("random-users");
const randomToggle = byId<HTMLButtonElement>("random-toggle");
const randomMessages = byId<HTMLUListElement>("random-messages");
const randomInput = byId<HTMLInputElement>("random-msg");
const randomSend = byId<HTMLButtonElement>("random-send");

// The socket is ws(s)://<page host>/ like ambiorix.js; a name given in the page's address
// (?name=ada) goes along, and the server lists this tab under it. connect() reconnects after the
// server restarts.
const name = new URLSearchParams(location.search).get("name") ?? "";
const socketURL = `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/` + (name === "" ? "" : `?name=${encodeURIComponent(name)}`);
const chat = connect({ url: socketURL });
if (name !== "") byId<HTMLElement>("me").textContent = `; you are ${name}`;
// Whether this tab asked to be in #random (the server keeps the truth; see showRandom).
let inRandom = false;

function showStatus(): void {
  status.textContent = chat.status;
  status.dataset["status"] = chat.status;
  // The server's verdict on this page's schema (the version handshake): after a deploy that
  // changed the schema in a way this page cannot follow, the server says "reload". The page asks
  // its user to, and keeps working meanwhile; once asked, it keeps asking.
  status.dataset["version"] = chat.version.status;
  if (chat.version.status === "reload") reload.hidden = false;
}
chat.client.onopen = () => {
  showStatus();
  // A server that restarted has forgotten this tab's rooms: ask again.
  if (inRandom) chat.send.join({ room: "#random" });
};
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

// #random: the server puts this tab in it when asked, and sends it the room's lines (from tabs on
// any server of the cluster) only while it is a member.
function showRandom(): void {
  randomToggle.textContent = inRandom ? "Leave" : "Join";
  randomInput.disabled = !inRandom;
  randomSend.disabled = !inRandom;
}
randomToggle.addEventListener("click", () => {
  inRandom = !inRandom;
  if (inRandom) chat.send.join({ room: "#random" });
  else chat.send.leave({ room: "#random" });
  showRandom();
});
chat.on.say((line) => {
  if (line.room !== "#random") return;
  const li = document.createElement("li");
  li.textContent = line.text;
  randomMessages.appendChild(li);
  li.scrollIntoView({ block: "nearest" });
});
chat.on.presence((p) => {
  if (p.room !== "#random") return;
  randomCount.textContent = String(p.count);
  randomUsers.textContent = p.users.length === 0 ? "" : `(${p.users.join(", ")})`;
});
byId<HTMLFormElement>("random-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  if (randomInput.value === "" || !inRandom) return;
  chat.send.say({ room: "#random", text: randomInput.value });
  randomInput.value = "";
});
