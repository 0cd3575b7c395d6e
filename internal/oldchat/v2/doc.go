// Package v2 is the generated client and server of the chat schema whose Mood knew only
// "happy" and "sad" (messages.yaml here); see package oldchat.
package v2

//go:generate go run ../../../cmd/ambigen -schema messages.yaml -go-out . -ts-out . -ts-runtime-import ../../../ts/src/index.js
