package runtime

// IsAtLeastVersion0_1_0 is referenced by generated code so that a program
// built against a runtime older than its generated code fails to compile.
const IsAtLeastVersion0_1_0 = true

// IsAtLeastVersion0_2_0 is referenced by code generated for the codec API of
// 0.2.0 (Decode through a *Decoder, Encode returning an error, field lists).
// Code generated for 0.1.0 does not build against it: regenerate it.
const IsAtLeastVersion0_2_0 = true

// IsAtLeastVersion0_3_0 is referenced by code generated for the typed API
// of 0.3.0: a gen.Conn that wraps the runtime connection, hooks added by
// method, Register, and Send and Call through a Peer (a Client that
// reconnects). Code generated for 0.2.0 still builds against this runtime.
const IsAtLeastVersion0_3_0 = true

// IsAtLeastVersion0_4_0 is referenced by code generated for rooms and
// audiences (Audience, BroadcastTo) and schema constraints (Checked and
// its rules): such code does not build against an older runtime.
const IsAtLeastVersion0_4_0 = true
