package runtime

// IsAtLeastVersion0_1_0 is referenced by generated code so that a program
// built against a runtime older than its generated code fails to compile.
const IsAtLeastVersion0_1_0 = true
