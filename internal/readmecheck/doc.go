// Package readmecheck holds the tests that keep README.md true: every code block in it is
// compiled, type-checked, run or compared with what the project really does.
package readmecheck
