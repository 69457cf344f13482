package fcemu

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// InvocationPath is FC 3.0's synchronous invocation path for a function.
func InvocationPath(function string) string {
	return "/2023-03-30/functions/" + function + "/invocations"
}

// InvokeHandler serves synchronous invocations of the instance the way FC's
// InvokeFunction answers them: the function's response as the body, or, for a
// function error, its errorType/errorMessage JSON with an X-Fc-Error-Type
// header (HandledInvocationError when the function reported it,
// UnhandledInvocationError for a timeout).
func InvokeHandler(in *Instance) http.Handler {
	path := InvocationPath(in.Server.opts.FunctionName)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || (r.URL.Path != path && r.URL.Path != "/invoke") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(map[string]string{"Code": "FunctionNotFound", "Message": "POST events to " + path})
			return
		}
		event, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
		if err != nil || len(event) > maxPayload {
			http.Error(w, "the event could not be read or is too large", http.StatusBadRequest)
			return
		}
		res, err := in.Invoke(r.Context(), event)
		if err != nil {
			http.Error(w, strings.TrimSpace(err.Error()), http.StatusBadGateway)
			return
		}
		w.Header().Set("X-Fc-Request-Id", res.RequestID)
		w.Header().Set("Content-Type", "application/json")
		if res.Error != nil {
			kind := "UnhandledInvocationError"
			if res.Error.Handled {
				kind = "HandledInvocationError"
			}
			w.Header().Set("X-Fc-Error-Type", kind)
			_ = json.NewEncoder(w).Encode(res.Error)
			return
		}
		_, _ = w.Write(res.Payload)
	})
}
