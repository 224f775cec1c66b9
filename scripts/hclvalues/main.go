// Command hclvalues reads one HCL file with hashicorp's own parser (hclsyntax) and prints what
// Terraform would see in it as JSON: every block's type and labels, and every attribute's value,
// evaluated with jsonencode available. xflow's tests compare it with xflow's own reader.
//
// Usage: hclvalues FILE
//
// Output: {"attributes": {NAME: VALUE, ...}, "blocks": [{"type": T, "labels": [...],
// "attributes": {...}, "blocks": [...]}, ...]}. Syntax and evaluation errors go to stderr
// with exit status 1.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

type body struct {
	Attributes map[string]json.RawMessage `json:"attributes"`
	Blocks     []block                    `json:"blocks"`
}

type block struct {
	Type   string   `json:"type"`
	Labels []string `json:"labels"`
	body
}

var evalContext = &hcl.EvalContext{
	Functions: map[string]function.Function{"jsonencode": stdlib.JSONEncodeFunc},
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: hclvalues FILE")
		os.Exit(2)
	}
	src, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail(err)
	}
	file, diags := hclsyntax.ParseConfig(src, os.Args[1], hcl.InitialPos)
	if diags.HasErrors() {
		fail(diags)
	}
	out, err := convert(file.Body.(*hclsyntax.Body))
	if err != nil {
		fail(err)
	}
	encoder := json.NewEncoder(os.Stdout)
	encoder.SetIndent("", "  ")
	if err := encoder.Encode(out); err != nil {
		fail(err)
	}
}

func convert(in *hclsyntax.Body) (body, error) {
	out := body{Attributes: map[string]json.RawMessage{}, Blocks: []block{}}
	for name, attribute := range in.Attributes {
		value, diags := attribute.Expr.Value(evalContext)
		if diags.HasErrors() {
			return out, diags
		}
		encoded, err := ctyjson.Marshal(value, value.Type())
		if err != nil {
			return out, fmt.Errorf("%s: %w", name, err)
		}
		out.Attributes[name] = encoded
	}
	for _, nested := range in.Blocks {
		converted, err := convert(nested.Body)
		if err != nil {
			return out, err
		}
		labels := append([]string{}, nested.Labels...)
		out.Blocks = append(out.Blocks, block{nested.Type, labels, converted})
	}
	return out, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "hclvalues:", err)
	os.Exit(1)
}
