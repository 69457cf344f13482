package rpc

import (
	"net"
	"net/http"
)

// sourceIP is the address of the connection's peer, for acs:SourceIp
// conditions. Forwarding headers are not read: any caller can set them, so
// trusting them would let a caller choose the address its policy sees. Behind
// a proxy the peer is the proxy.
func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return ""
	}
	return host
}
