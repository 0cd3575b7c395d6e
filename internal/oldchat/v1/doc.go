// Package v1 is the generated client and server of the chat schema before "post" existed
// (messages.yaml here); see package oldchat.
package v1

//go:generate go run ../../../cmd/ambigen -schema messages.yaml -go-out . -ts-out . -ts-runtime-import ../../../ts/src/index.js
