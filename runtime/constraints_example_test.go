package runtime_test

import (
	"fmt"

	"github.com/ambigen/ambigen/runtime"
)

// A codec with constraints refuses a value in both directions, with the
// rule it breaks. Generated code builds such codecs from the constraints
// of the schema (title: {type: string, maxLength: 5}).
func ExampleChecked() {
	title := runtime.Checked(runtime.String, runtime.MaxLength(5))

	_, err := runtime.DecodePayload(title, []byte(`"a title too long"`))
	fmt.Println("decode:", err)

	_, err = runtime.AppendPayload(nil, title, "a title too long")
	fmt.Println("encode:", err)

	b, err := runtime.AppendPayload(nil, title, "short")
	fmt.Println("encode:", string(b), err)
	// Output:
	// decode: longer than 5 characters (maxLength 5)
	// encode: longer than 5 characters (maxLength 5)
	// encode: "short" <nil>
}
