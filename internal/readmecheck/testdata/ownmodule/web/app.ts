// The page's script: every name and payload below is checked against the generated client.
import { connect } from "./gen/messages.js";

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`#${id} is missing`);
  return el as T;
}

const who = document.body.dataset["who"] ?? "page";
const status = byId<HTMLElement>("status");
const messages = byId<HTMLUListElement>("messages");
const input = byId<HTMLInputElement>("msg");
const sum = byId<HTMLOutputElement>("sum");

const chat = connect();
const showStatus = (): void => {
  status.textContent = chat.status;
};
chat.client.onopen = showStatus;
chat.client.onclose = showStatus;
showStatus();

chat.on.say((line) => {
  const li = document.createElement("li");
  li.textContent = `${line.who}: ${line.text}`;
  messages.append(li);
});

byId<HTMLFormElement>("form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  chat.send.say({ who, text: input.value, mood: "happy", at: new Date().toISOString() });
  input.value = "";
});

byId<HTMLButtonElement>("add").addEventListener("click", () => {
  chat.call.add({ a: 1, b: 2 }).then((n: number) => {
    sum.textContent = String(n);
  });
});

// Wrong payloads do not compile; tsc fails on an unused @ts-expect-error, so these lines prove
// that the page is checked against the generated types.
export function neverCalled(): void {
  // @ts-expect-error: a say payload is a Line, not a string
  chat.send.say("hello");
  // @ts-expect-error: "angry" is not a Mood
  chat.send.say({ who, text: "x", mood: "angry" });
  // @ts-expect-error: add is a call, not a message the client sends
  chat.send.add({ a: 1, b: 2 });
}
