package functions_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kmsless/kmsless/internal/npmtest"
)

// The fc3 component's JSON schema ships inside the component, which s
// downloads from the Serverless Devs registry at deploy time, not from npm: it
// is not at hand offline. fc3Check is a focused structural check of the props
// s.yaml uses, with the schema's types, enums and bounds and Function Compute
// 3.0's sizing rules, and it refuses props the component does not know (the
// schema lets a misspelt one through silently).
//
// raw is s.yaml before rendering: a string that is wholly one ${...}
// expression stands for a value s computes, and is checked once rendered
// (TestSYAMLRendersWithSPreview).

var fc3Props = []string{
	"asyncInvokeConfig", "code", "concurrencyConfig", "cpu", "customContainerConfig", "customDNS",
	"customDomain", "customRuntimeConfig", "description", "diskSize", "endpoint", "environmentVariables",
	"functionName", "gpuConfig", "handler", "instanceConcurrency", "instanceLifecycleConfig",
	"internetAccess", "layers", "logConfig", "memorySize", "nasConfig", "ossMountConfig",
	"provisionConfig", "region", "role", "runtime", "timeout", "tracingConfig", "triggers",
	"vpcBinding", "vpcConfig",
}

var fc3Regions = []string{
	"ap-northeast-1", "ap-northeast-2", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
	"ap-southeast-3", "ap-southeast-5", "ap-southeast-7", "cn-beijing", "cn-chengdu", "cn-hangzhou",
	"cn-hongkong", "cn-huhehaote", "cn-qingdao", "cn-shanghai", "cn-shenzhen", "cn-zhangjiakou",
	"eu-central-1", "eu-west-1", "us-east-1", "us-west-1",
}

var expr = regexp.MustCompile(`^\$\{[^{}]*\}$`)

type fc3Check struct {
	t    *testing.T
	name string
	raw  bool
}

func (c fc3Check) errorf(path, format string, args ...any) {
	c.t.Helper()
	c.t.Errorf("%s: %s: %s", c.name, path, fmt.Sprintf(format, args...))
}

// pending reports a value s has yet to render.
func (c fc3Check) pending(v any) bool {
	s, ok := v.(string)
	return c.raw && ok && expr.MatchString(s)
}

func (c fc3Check) str(path string, v any, required bool) (string, bool) {
	c.t.Helper()
	if v == nil {
		if required {
			c.errorf(path, "missing")
		}
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		c.errorf(path, "%v is a %T; want a string", v, v)
	}
	return s, ok && !c.pending(v)
}

func (c fc3Check) number(path string, v any, lo, hi, step float64) (float64, bool) {
	c.t.Helper()
	if c.pending(v) || v == nil {
		return 0, false
	}
	var f float64
	switch x := v.(type) {
	case int:
		f = float64(x)
	case float64:
		f = x
	default:
		c.errorf(path, "%v is a %T; want a number (an env() value is a string: put numbers in s.yaml)", v, v)
		return 0, false
	}
	if f < lo || f > hi {
		c.errorf(path, "%v is outside [%v, %v]", f, lo, hi)
	}
	if step > 0 && math.Abs(f/step-math.Round(f/step)) > 1e-9 {
		c.errorf(path, "%v is not a multiple of %v", f, step)
	}
	return f, true
}

func (c fc3Check) boolean(path string, v any, required bool) {
	c.t.Helper()
	if v == nil && !required || c.pending(v) {
		return
	}
	if _, ok := v.(bool); !ok {
		c.errorf(path, "%v is a %T; want a boolean", v, v)
	}
}

func (c fc3Check) object(path string, v any, known ...string) map[string]any {
	c.t.Helper()
	mm, ok := v.(map[string]any)
	if !ok {
		c.errorf(path, "%v is a %T; want an object", v, v)
		return nil
	}
	if known != nil {
		for k := range mm {
			if !slices.Contains(known, k) {
				c.errorf(path, "unknown key %q (known: %v)", k, known)
			}
		}
	}
	return mm
}

func (c fc3Check) oneOf(path string, v any, allowed ...string) {
	c.t.Helper()
	if s, ok := c.str(path, v, true); ok && !slices.Contains(allowed, s) {
		c.errorf(path, "%q is not one of %v", s, allowed)
	}
}

func (c fc3Check) props(p map[string]any) {
	c.t.Helper()
	c.object("props", p, fc3Props...)
	c.str("functionName", p["functionName"], true)
	c.str("code", p["code"], true)
	c.str("handler", p["handler"], true)
	c.oneOf("runtime", p["runtime"], "go1")
	if r, ok := c.str("region", p["region"], true); ok && !slices.Contains(fc3Regions, r) {
		c.errorf("region", "%q is not a Function Compute 3.0 region", r)
	}
	c.str("description", p["description"], false)
	c.boolean("internetAccess", p["internetAccess"], false)
	c.number("timeout", p["timeout"], 1, 86400, 1)
	c.number("instanceConcurrency", p["instanceConcurrency"], 1, 100, 1)
	if p["diskSize"] != nil {
		if d, ok := c.number("diskSize", p["diskSize"], 512, 10240, 0); ok && d != 512 && d != 10240 {
			c.errorf("diskSize", "%v; want 512 or 10240", d)
		}
	}
	// FC 3.0 sizes: memory in multiples of 64 MB, vCPUs in multiples of 0.05,
	// and between 1 and 4 GB of memory per vCPU. Both are set, so that
	// neither falls to a default the other does not fit.
	mem, memOK := c.number("memorySize", p["memorySize"], 128, 32768, 64)
	cpu, cpuOK := c.number("cpu", p["cpu"], 0.05, 16, 0.05)
	if p["memorySize"] == nil || p["cpu"] == nil {
		c.errorf("cpu, memorySize", "set both explicitly")
	} else if memOK && cpuOK {
		if ratio := mem / 1024 / cpu; ratio < 1-1e-9 || ratio > 4+1e-9 {
			c.errorf("cpu, memorySize", "%v vCPU with %v MB is %.2f GB per vCPU; want 1 to 4", cpu, mem, ratio)
		}
	}
	if env := c.object("environmentVariables", p["environmentVariables"]); env != nil {
		for k, v := range env {
			c.str("environmentVariables."+k, v, true)
		}
	}
	if layers, ok := p["layers"].([]any); ok {
		for i, l := range layers {
			c.str(fmt.Sprintf("layers[%d]", i), l, true)
		}
	} else if p["layers"] != nil {
		c.errorf("layers", "%v; want a list", p["layers"])
	}
	if lc := p["instanceLifecycleConfig"]; lc != nil {
		for hook, h := range c.object("instanceLifecycleConfig", lc, "initializer", "preStop") {
			hm := c.object("instanceLifecycleConfig."+hook, h, "handler", "timeout")
			c.str("instanceLifecycleConfig."+hook+".handler", hm["handler"], true)
			c.number("instanceLifecycleConfig."+hook+".timeout", hm["timeout"], 1, 86400, 1)
		}
	}
	if v := p["vpcConfig"]; v != nil {
		c.vpc(v)
	}
	if v := p["logConfig"]; v != nil {
		c.logs(v)
	}
	if v := p["triggers"]; v != nil {
		list, ok := v.([]any)
		if !ok {
			c.errorf("triggers", "%v; want a list", v)
		}
		for i, tr := range list {
			c.trigger(fmt.Sprintf("triggers[%d]", i), tr)
		}
	}
}

func (c fc3Check) vpc(v any) {
	c.t.Helper()
	if v == "auto" {
		return
	}
	vc := c.object("vpcConfig", v, "vpcId", "vSwitchIds", "securityGroupId")
	vpcID, ok1 := c.str("vpcConfig.vpcId", vc["vpcId"], true)
	sg, ok2 := c.str("vpcConfig.securityGroupId", vc["securityGroupId"], true)
	sw := vc["vSwitchIds"]
	if c.pending(sw) {
		return
	}
	list, ok := sw.([]any)
	if !ok {
		c.errorf("vpcConfig.vSwitchIds", "%v; want a list of vSwitch IDs", sw)
		return
	}
	for i, s := range list {
		if id, _ := c.str(fmt.Sprintf("vpcConfig.vSwitchIds[%d]", i), s, true); id == "" {
			c.errorf("vpcConfig.vSwitchIds", "%v holds an empty ID", list)
		}
	}
	// All empty is Function Compute's "no VPC"; anything else must be whole.
	if ok1 && ok2 && (vpcID == "") != (sg == "") || ok1 && (vpcID == "") != (len(list) == 0) {
		c.errorf("vpcConfig", "vpcId %q, vSwitchIds %v, securityGroupId %q: set all three or none", vpcID, list, sg)
	}
}

func (c fc3Check) logs(v any) {
	c.t.Helper()
	if v == "auto" {
		return
	}
	lc := c.object("logConfig", v, "project", "logstore", "enableRequestMetrics", "enableInstanceMetrics", "logBeginRule")
	project, ok1 := c.str("logConfig.project", lc["project"], true)
	store, ok2 := c.str("logConfig.logstore", lc["logstore"], true)
	c.boolean("logConfig.enableRequestMetrics", lc["enableRequestMetrics"], false)
	c.boolean("logConfig.enableInstanceMetrics", lc["enableInstanceMetrics"], false)
	if lc["logBeginRule"] != nil && !c.pending(lc["logBeginRule"]) {
		c.oneOf("logConfig.logBeginRule", lc["logBeginRule"], "DefaultRegex", "None")
	}
	if ok1 && ok2 && (project == "") != (store == "") {
		c.errorf("logConfig", "project %q, logstore %q: set both or neither", project, store)
	}
	if ok2 && store == "" && (lc["enableRequestMetrics"] == true || lc["enableInstanceMetrics"] == true) {
		c.errorf("logConfig", "metrics enabled without a logstore")
	}
}

func (c fc3Check) trigger(path string, v any) {
	c.t.Helper()
	tr := c.object(path, v, "triggerName", "triggerType", "triggerConfig", "description", "invocationRole", "qualifier", "sourceArn")
	c.str(path+".triggerName", tr["triggerName"], true)
	c.str(path+".description", tr["description"], false)
	c.oneOf(path+".triggerType", tr["triggerType"], "http", "timer", "oss", "log", "mns_topic", "cdn_events", "tablestore", "eventbridge")
	cfgPath := path + ".triggerConfig"
	switch tr["triggerType"] {
	case "http":
		cfg := c.object(cfgPath, tr["triggerConfig"], "authType", "authConfig", "methods", "disableURLInternet")
		c.oneOf(cfgPath+".authType", cfg["authType"], "anonymous", "function")
		methods, ok := cfg["methods"].([]any)
		if !ok || len(methods) == 0 {
			c.errorf(cfgPath+".methods", "%v; want a list of HTTP methods", cfg["methods"])
		}
		for i, m := range methods {
			c.oneOf(fmt.Sprintf("%s.methods[%d]", cfgPath, i), m, "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
		}
	case "timer":
		cfg := c.object(cfgPath, tr["triggerConfig"], "cronExpression", "enable", "payload")
		if cron, ok := c.str(cfgPath+".cronExpression", cfg["cronExpression"], true); ok && !fcSchedule(cron) {
			c.errorf(cfgPath+".cronExpression", "%q; want @every <n>m|h or [CRON_TZ=<zone> ]and six cron fields", cron)
		}
		c.boolean(cfgPath+".enable", cfg["enable"], true)
		c.str(cfgPath+".payload", cfg["payload"], false)
	case "mns_topic":
		cfg := c.object(cfgPath, tr["triggerConfig"], "filterTag", "notifyContentFormat", "notifyStrategy")
		c.oneOf(cfgPath+".notifyContentFormat", cfg["notifyContentFormat"], "JSON", "STREAM")
		c.oneOf(cfgPath+".notifyStrategy", cfg["notifyStrategy"], "BACKOFF_RETRY", "EXPONENTIAL_DECAY_RETRY")
		c.str(path+".sourceArn", tr["sourceArn"], true)
		c.str(path+".invocationRole", tr["invocationRole"], true)
	case "eventbridge":
		cfg := c.object(cfgPath, tr["triggerConfig"], "asyncInvocationType", "eventRuleFilterPattern", "eventSinkConfig", "eventSourceConfig", "runOptions", "triggerEnable")
		c.boolean(cfgPath+".asyncInvocationType", cfg["asyncInvocationType"], true)
		c.boolean(cfgPath+".triggerEnable", cfg["triggerEnable"], true)
		if p, ok := c.str(cfgPath+".eventRuleFilterPattern", cfg["eventRuleFilterPattern"], true); ok && !json.Valid([]byte(p)) {
			c.errorf(cfgPath+".eventRuleFilterPattern", "%q is not JSON", p)
		}
		sink := c.object(cfgPath+".eventSinkConfig", cfg["eventSinkConfig"], "deliveryOption")
		opt := c.object(cfgPath+".eventSinkConfig.deliveryOption", sink["deliveryOption"], "mode", "eventSchema")
		c.oneOf(cfgPath+".eventSinkConfig.deliveryOption.eventSchema", opt["eventSchema"], "CloudEvents", "RawData")
		src := c.object(cfgPath+".eventSourceConfig", cfg["eventSourceConfig"], "eventSourceType", "eventSourceParameters")
		c.oneOf(cfgPath+".eventSourceConfig.eventSourceType", src["eventSourceType"], "Default", "MNS", "RocketMQ", "RabbitMQ", "Kafka", "DTS")
		params := c.object(cfgPath+".eventSourceConfig.eventSourceParameters", src["eventSourceParameters"])
		if src["eventSourceType"] == "MNS" {
			mns := c.object(cfgPath+".eventSourceConfig.eventSourceParameters.sourceMNSParameters", params["sourceMNSParameters"], "QueueName", "IsBase64Decode")
			if q, ok := c.str(cfgPath+"...QueueName", mns["QueueName"], true); ok && q == "" {
				c.errorf(cfgPath+"...QueueName", "empty")
			}
			c.boolean(cfgPath+"...IsBase64Decode", mns["IsBase64Decode"], false)
		}
		run := c.object(cfgPath+".runOptions", cfg["runOptions"], "mode", "batchWindow", "retryStrategy", "errorsTolerance", "deadLetterQueue", "maximumTasks")
		c.oneOf(cfgPath+".runOptions.mode", run["mode"], "event-driven", "event-streaming")
		if opt["mode"] != nil && opt["mode"] != run["mode"] {
			c.errorf(cfgPath, "deliveryOption.mode %v and runOptions.mode %v differ", opt["mode"], run["mode"])
		}
		if bw := run["batchWindow"]; bw != nil {
			b := c.object(cfgPath+".runOptions.batchWindow", bw, "CountBasedWindow", "TimeBasedWindow")
			c.number(cfgPath+".runOptions.batchWindow.CountBasedWindow", b["CountBasedWindow"], 1, 10000, 1)
			c.number(cfgPath+".runOptions.batchWindow.TimeBasedWindow", b["TimeBasedWindow"], 0, 15, 1)
		}
		if rs := run["retryStrategy"]; rs != nil {
			r := c.object(cfgPath+".runOptions.retryStrategy", rs, "PushRetryStrategy")
			c.oneOf(cfgPath+".runOptions.retryStrategy.PushRetryStrategy", r["PushRetryStrategy"], "BACKOFF_RETRY", "EXPONENTIAL_DECAY_RETRY")
		}
		if run["errorsTolerance"] != nil {
			c.oneOf(cfgPath+".runOptions.errorsTolerance", run["errorsTolerance"], "ALL", "NONE")
		}
		if dl := run["deadLetterQueue"]; dl != nil {
			d := c.object(cfgPath+".runOptions.deadLetterQueue", dl, "Arn")
			if arn, ok := c.str(cfgPath+".runOptions.deadLetterQueue.Arn", d["Arn"], true); ok && !strings.HasPrefix(arn, "acs:mns:") {
				c.errorf(cfgPath+".runOptions.deadLetterQueue.Arn", "%q is not an MNS queue ARN", arn)
			}
		}
	default:
		c.object(cfgPath, tr["triggerConfig"])
	}
}

type sResource struct {
	Component string         `yaml:"component" json:"component"`
	Props     map[string]any `yaml:"props" json:"props"`
}

type sDoc struct {
	Vars      map[string]any       `yaml:"vars" json:"vars"`
	Resources map[string]sResource `yaml:"resources" json:"resources"`
}

func sortedKeys[V any](mm map[string]V) []string {
	ks := make([]string, 0, len(mm))
	for k := range mm {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func TestSYAMLFitsTheFC3Component(t *testing.T) {
	var doc sDoc
	readYAML(t, "s.yaml", &doc)
	for _, name := range sortedKeys(doc.Resources) {
		fc3Check{t: t, name: name, raw: true}.props(doc.Resources[name].Props)
	}
}

// Env names s.yaml may require; every other setting has a default, so a
// deployment without Redis, a VPC or SLS renders.
var sRequiredEnv = []string{"KMS_ROOT_KEY", "KMS_STORE", "KMS_PRINCIPALS_LAYER_ARN"}

func TestSYAMLSettingsMatchTemplateYAML(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "s.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, mm := range regexp.MustCompile(`\$\{env\('([A-Z_]+)'\)\}`).FindAllStringSubmatch(string(b), -1) {
		if !slices.Contains(sRequiredEnv, mm[1]) {
			t.Errorf("s.yaml requires %s (env() without a default): s deploy fails where it is unset", mm[1])
		}
	}
	// The region is named once, in vars.region; comments aside.
	code := regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAllString(string(b), "")
	for _, r := range fc3Regions {
		if n := strings.Count(code, r); n > 1 || n == 1 && !strings.Contains(code, "region: ${env('KMS_REGION', '"+r+"')}") {
			t.Errorf("s.yaml names region %s outside vars.region", r)
		}
	}

	var doc sDoc
	readYAML(t, "s.yaml", &doc)
	want := sortedKeys(globalsEnv(t))
	for _, name := range sortedKeys(doc.Resources) {
		p := doc.Resources[name].Props
		env, _ := p["environmentVariables"].(map[string]any)
		for _, k := range want {
			if _, ok := env[k]; !ok {
				t.Errorf("%s: template.yaml sets %s for every function; s.yaml does not", name, k)
			}
		}
		if got := env["KMS_REGION"]; got != "${vars.region}" {
			t.Errorf("%s: KMS_REGION is %v; want ${vars.region}", name, got)
		}
		if got := p["region"]; got != "${vars.region}" {
			t.Errorf("%s: region is %v; want ${vars.region}", name, got)
		}
	}
	if got := doc.Resources["provision-partitions"].Props["triggers"]; got == nil {
		t.Error("provision-partitions has no trigger in s.yaml")
	}
}

// sBinary finds Serverless Devs' s: KMS_S_BIN, then PATH, else the version
// the tests pin, installed from npm into the user cache once (skipping t,
// with how to install it, where node or npm is missing).
func sBinary(t *testing.T) string {
	if p := os.Getenv("KMS_S_BIN"); p != "" {
		return p
	}
	if p, err := exec.LookPath("s"); err == nil {
		return p
	}
	return filepath.Join(npmtest.Modules(t, sPackage), ".bin", "s")
}

// TestSYAMLRendersWithSPreview renders s.yaml the way s deploy would, offline,
// with only the required settings and with every optional one, and checks the
// result against the fc3 props.
func TestSYAMLRendersWithSPreview(t *testing.T) {
	t.Parallel()
	s := sBinary(t)
	required := map[string]string{
		"KMS_ROOT_KEY":             "c2VjcmV0LW5vdC1mb3ItcHJvZHVjdGlvbi0zMi1ieXRlcw==",
		"KMS_STORE":                "postgres://kms@db.internal:5432/kms?sslmode=require",
		"KMS_PRINCIPALS_LAYER_ARN": "acs:fc:cn-hangzhou:1234567890123456:layers/kmsless-principals/versions/1",
	}
	optional := map[string]string{
		"REDIS_URL":                 "rediss://r-example.redis.rds.aliyuncs.com:6380/0",
		"KMS_REGION":                "cn-shanghai",
		"KMS_ACCOUNT_ID":            "1234567890123456",
		"KMS_QPS_PER_USER":          "500",
		"KMS_STORE_POOL_SIZE":       "3",
		"KMS_SIGV4_REPEATS":         "allow",
		"KMS_VPC_ID":                "vpc-example",
		"KMS_VSWITCH_IDS":           "vsw-a,vsw-b",
		"KMS_SECURITY_GROUP_ID":     "sg-example",
		"KMS_LOG_PROJECT":           "kmsless-logs",
		"KMS_LOG_STORE":             "functions",
		"KMS_PARTITION_QUEUE":       "partitions",
		"KMS_PARTITION_DLQ":         "partitions-failed",
		"KMS_ROOT_KEY_SOURCE":       "alibaba-kms",
		"KMS_ROOT_KEY_CMK":          "key-hzz0123456789abcdefgh",
		"KMS_ROOT_KEY_ENDPOINT":     "kms-vpc.cn-shanghai.aliyuncs.com",
		"KMS_ROOT_KEY_PREVIOUS":     "cHJldmlvdXMtYmxvYg==",
		"KMS_STORE_PASSWORD_SEALED": "kmsless-sealed-v1 store-password 0123456789abcdef AAAA",
		"KMS_PRINCIPALS_FILE_NAME":  "principals.sealed",
		"KMS_FUNCTION_ROLE_ARN":     "acs:ram::1234567890123456:role/kmsless-functions",
	}
	cases := []struct {
		name string
		env  map[string]string
	}{{"required settings only", required}, {"every setting", optional}}
	for k, v := range required {
		optional[k] = v
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc := sPreview(t, s, tc.env)
			region := tc.env["KMS_REGION"]
			if region == "" {
				region = "cn-hangzhou"
			}
			for _, name := range sortedKeys(doc.Resources) {
				p := doc.Resources[name].Props
				fc3Check{t: t, name: name}.props(p)
				env, _ := p["environmentVariables"].(map[string]any)
				if p["region"] != region || env["KMS_REGION"] != region {
					t.Errorf("%s: region %v, KMS_REGION %v; want %s", name, p["region"], env["KMS_REGION"], region)
				}
				for k, v := range tc.env {
					if got, ok := env[k]; ok && got != v {
						t.Errorf("%s: %s is %v; want %q", name, k, got, v)
					}
				}
				if got := env["REDIS_URL"]; got != tc.env["REDIS_URL"] {
					t.Errorf("%s: REDIS_URL %q; want %q", name, got, tc.env["REDIS_URL"])
				}
				vpc := jsonOf(p["vpcConfig"])
				if tc.env["KMS_VPC_ID"] == "" && vpc != `{"securityGroupId":"","vSwitchIds":[],"vpcId":""}` ||
					tc.env["KMS_VPC_ID"] != "" && vpc != `{"securityGroupId":"sg-example","vSwitchIds":["vsw-a","vsw-b"],"vpcId":"vpc-example"}` {
					t.Errorf("%s: vpcConfig %s", name, vpc)
				}
			}
			trigger := jsonOf(doc.Resources["provision-partitions"].Props["triggers"])
			queue := tc.env["KMS_PARTITION_QUEUE"]
			if queue == "" {
				queue = "kmsless-partition-created"
			}
			if !strings.Contains(trigger, `"QueueName":"`+queue+`"`) || !strings.Contains(trigger, `"Arn":"acs:mns:`+region+`:`) {
				t.Errorf("provision-partitions triggers %s; want queue %s and a dead-letter queue in %s", trigger, queue, region)
			}
		})
	}
}

func sPreview(t *testing.T, s string, env map[string]string) sDoc {
	t.Helper()
	home := t.TempDir()
	// s checks for a newer s, and may report usage, from a detached process
	// that goes on writing into home after s has exited, racing the removal
	// of the test's directory. A fresh update check and analysis turned off
	// keep it from starting.
	conf := filepath.Join(home, ".s", "config")
	if err := os.MkdirAll(conf, 0o700); err != nil {
		t.Fatal(err)
	}
	checked := fmt.Appendf(nil, `{"lastUpdateCheck":%d}`, time.Now().UnixMilli())
	if err := os.WriteFile(filepath.Join(conf, "update-notifier.json"), checked, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".s", "set-config.yml"), []byte("analysis: disable\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(s, "preview", "-o", "json", "-t", filepath.Join(root, "s.yaml"))
	cmd.Dir = home
	// Only what s needs: no setting of the caller's shell leaks into the render.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "serverless_devs_config_home=" + home, "NO_COLOR=1"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("s preview: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	// s prints a warning line or two before the JSON.
	out := stdout.Bytes()
	if i := bytes.Index(out, []byte("\n{")); i >= 0 && !bytes.HasPrefix(out, []byte("{")) {
		out = out[i+1:]
	}
	var doc sDoc
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("s preview printed no JSON document: %v\n%s", err, stdout.String())
	}
	if len(doc.Resources) == 0 {
		t.Fatalf("s preview rendered no resources:\n%s", stdout.String())
	}
	return doc
}

// fcSchedule reports whether s is a timer trigger's schedule as Function
// Compute reads one: "@every" and a count of minutes or hours, or six cron
// fields (seconds first), optionally after a CRON_TZ= zone.
func fcSchedule(s string) bool {
	if n, ok := strings.CutPrefix(s, "@every "); ok {
		return regexp.MustCompile(`^[1-9][0-9]*[mh]$`).MatchString(n)
	}
	if rest, ok := strings.CutPrefix(s, "CRON_TZ="); ok {
		_, s, ok = strings.Cut(rest, " ")
		if !ok {
			return false
		}
	}
	return len(strings.Fields(s)) == 6
}
