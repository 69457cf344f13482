// Command hello is the floor of the cold-start benchmark: the smallest Go
// Lambda function, built with the same flags as the project's functions.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, json.RawMessage) (string, error) { return "hello", nil })
}
