package pseudonym_test

import (
	"bytes"
	"fmt"

	"github.com/residency-dev/residency/shared/pseudonym"
	"github.com/residency-dev/residency/shared/record"
)

func ExampleKeyer() {
	k, err := pseudonym.New(bytes.Repeat([]byte{0x42}, pseudonym.MinKeySize))
	if err != nil {
		panic(err)
	}
	sub := k.Subject("u-1001")
	rec := k.Record("users", record.Key{"pk": "USER#u-1001", "sk": "PROFILE"})
	fmt.Println(len(sub), sub[:4], len(rec), rec[:4])
	fmt.Println(sub == k.Subject("u-1001"))
	// Output:
	// 36 sub_ 36 rec_
	// true
}
