// Command gatehouse is the Gatehouse server and its command-line client.
package main

import (
	"os"

	"gatehouse/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
