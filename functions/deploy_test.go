package functions_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/kmsless/kmsless/infra/config"
)

// The deployment descriptors' own checks, beyond matching functions/ (see
// template_test.go): template.yaml's parameters really switch what they claim
// to, cfn-lint accepts it before and after the SAM transform, and s.yaml keeps
// to the fc3 component's rules, raw and as `s preview` renders it. cfn-lint is
// used when installed and skipped, with how to install it, when not; s is
// installed from npm where it is missing, as the JavaScript clients are.

const (
	cfnLintHint = "pip install cfn-lint aws-sam-translator"
	// sPackage is the Serverless Devs release whose `s preview` judges
	// s.yaml; another may be put on PATH or named by KMS_S_BIN.
	sPackage = "@serverless-devs/s@3.1.10"
)

// cfnTemplate reads template.yaml with CloudFormation's short tags in their
// long form (!Ref X is {"Ref": "X"}, !GetAtt A.B is {"Fn::GetAtt": ["A", "B"]}),
// so conditions and intrinsics can be compared as the service reads them.
func cfnTemplate(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	v, err := longForm(doc.Content[0])
	if err != nil {
		t.Fatal(err)
	}
	return v.(map[string]any)
}

func longForm(n *yaml.Node) (any, error) {
	var v any
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			x, err := longForm(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = x
		}
		v = m
	case yaml.SequenceNode:
		s := []any{}
		for _, c := range n.Content {
			x, err := longForm(c)
			if err != nil {
				return nil, err
			}
			s = append(s, x)
		}
		v = s
	case yaml.AliasNode:
		return longForm(n.Alias)
	default:
		var x any
		plain := *n
		plain.Tag = ""
		if strings.HasPrefix(n.Tag, "!!") {
			plain.Tag = n.Tag
		}
		if err := plain.Decode(&x); err != nil {
			return nil, err
		}
		v = x
	}
	tag := n.Tag
	if !strings.HasPrefix(tag, "!") || strings.HasPrefix(tag, "!!") {
		return v, nil
	}
	name := strings.TrimPrefix(tag, "!")
	switch name {
	case "Ref", "Condition":
		return map[string]any{name: v}, nil
	case "GetAtt":
		if s, ok := v.(string); ok {
			res, attr, _ := strings.Cut(s, ".")
			return map[string]any{"Fn::GetAtt": []any{res, attr}}, nil
		}
	}
	return map[string]any{"Fn::" + name: v}, nil
}

// m walks a decoded document; a missing key reads as nil.
func m(v any, path ...string) any {
	for _, k := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func ref(name string) map[string]any { return map[string]any{"Ref": name} }

func getAtt(res, attr string) map[string]any {
	return map[string]any{"Fn::GetAtt": []any{res, attr}}
}

var noValue = ref("AWS::NoValue")

func resourcesOfType(tpl map[string]any, typ string) []string {
	var ids []string
	for id, r := range m(tpl, "Resources").(map[string]any) {
		if m(r, "Type") == typ {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

func TestTemplateYAMLUsesAVPCOnlyWhenOneIsGiven(t *testing.T) {
	tpl := cfnTemplate(t)
	// A CommaDelimitedList defaulting to "" is [""], which Lambda refuses: the
	// lists are strings, split only under the condition.
	for _, p := range []string{"SubnetIds", "SecurityGroupIds"} {
		if typ := m(tpl, "Parameters", p, "Type"); typ != "String" || m(tpl, "Parameters", p, "Default") != "" {
			t.Errorf("parameter %s: type %v default %v; want a String defaulting to \"\"", p, typ, m(tpl, "Parameters", p, "Default"))
		}
	}
	inVpc := jsonOf(m(tpl, "Conditions", "InVpc"))
	if !strings.Contains(inVpc, `{"Ref":"SubnetIds"}`) || !strings.Contains(inVpc, `{"Ref":"SecurityGroupIds"}`) {
		t.Errorf("condition InVpc %s does not require both SubnetIds and SecurityGroupIds", inVpc)
	}
	want := map[string]any{"Fn::If": []any{"InVpc", map[string]any{
		"SubnetIds":        map[string]any{"Fn::Split": []any{",", ref("SubnetIds")}},
		"SecurityGroupIds": map[string]any{"Fn::Split": []any{",", ref("SecurityGroupIds")}},
	}, noValue}}
	if got := m(tpl, "Globals", "Function", "VpcConfig"); !reflect.DeepEqual(got, want) {
		t.Errorf("Globals VpcConfig %s; want %s", jsonOf(got), jsonOf(want))
	}
	// SAM attaches AWSLambdaVPCAccessExecutionRole to the roles it makes
	// whenever VpcConfig is present, even as an Fn::If that resolves to
	// nothing: every function names its role, and a role carries the VPC policy
	// only under InVpc.
	roles := resourcesOfType(tpl, "AWS::IAM::Role")
	for _, id := range resourcesOfType(tpl, "AWS::Serverless::Function") {
		role := m(tpl, "Resources", id, "Properties", "Role")
		ga, _ := m(role, "Fn::GetAtt").([]any)
		if len(ga) != 2 || !slices.Contains(roles, fmt.Sprint(ga[0])) || ga[1] != "Arn" {
			t.Errorf("%s: Role %s; want !GetAtt <a role of this template>.Arn, or SAM makes one with the VPC policy", id, jsonOf(role))
		}
		if v := m(tpl, "Resources", id, "Properties", "VpcConfig"); v != nil {
			t.Errorf("%s overrides VpcConfig (%s)", id, jsonOf(v))
		}
	}
	for _, id := range roles {
		arns, _ := m(tpl, "Resources", id, "Properties", "ManagedPolicyArns").([]any)
		for _, a := range arns {
			if !strings.Contains(jsonOf(a), "AWSLambdaVPCAccessExecutionRole") {
				continue
			}
			ifs, _ := m(a, "Fn::If").([]any)
			if len(ifs) != 3 || ifs[0] != "InVpc" || !reflect.DeepEqual(ifs[2], noValue) {
				t.Errorf("%s attaches the VPC policy unconditionally: %s", id, jsonOf(a))
			}
		}
	}
}

func TestTemplateYAMLNamesFitAnyStack(t *testing.T) {
	tpl := cfnTemplate(t)
	pattern, _ := m(tpl, "Parameters", "FunctionNamePrefix", "AllowedPattern").(string)
	maxPrefix := 0
	if mm := regexp.MustCompile(`\{1,(\d+)\}\$$`).FindStringSubmatch(pattern); mm != nil {
		maxPrefix, _ = strconv.Atoi(mm[1])
	} else {
		t.Fatalf("FunctionNamePrefix AllowedPattern %q does not bound the prefix's length", pattern)
	}
	if _, err := regexp.Compile(pattern); err != nil || !regexp.MustCompile(pattern).MatchString("") {
		t.Errorf("FunctionNamePrefix AllowedPattern %q must accept the empty default", pattern)
	}
	for _, id := range resourcesOfType(tpl, "AWS::Serverless::Function") {
		name := m(tpl, "Resources", id, "Properties", "FunctionName")
		if name == nil {
			continue // CloudFormation names it, within Lambda's limit
		}
		ifs, _ := m(name, "Fn::If").([]any)
		var sub string
		if len(ifs) == 3 {
			sub, _ = m(ifs[1], "Fn::Sub").(string)
		}
		suffix, ok := strings.CutPrefix(sub, "${FunctionNamePrefix}")
		if len(ifs) != 3 || ifs[0] != "NamedFunctions" || !ok || !reflect.DeepEqual(ifs[2], noValue) {
			t.Errorf("%s: FunctionName %s; want !If [NamedFunctions, !Sub \"${FunctionNamePrefix}-...\", !Ref AWS::NoValue]", id, jsonOf(name))
			continue
		}
		if n := maxPrefix + len(suffix); n > 64 {
			t.Errorf("%s: with a %d-character prefix its name is %d characters; Lambda allows 64", id, maxPrefix, n)
		}
	}
	if strings.Contains(jsonOf(m(tpl, "Resources")), "${AWS::StackName}-") {
		t.Error("a resource name is built from the stack name, whose length is the deployer's")
	}
}

func TestTemplateYAMLBudgetsConcurrencyAndConnections(t *testing.T) {
	tpl := cfnTemplate(t)
	env := m(tpl, "Globals", "Function", "Environment", "Variables")
	if got := m(env, "KMS_STORE_POOL_SIZE"); !reflect.DeepEqual(got, ref("StorePoolSize")) {
		t.Errorf("KMS_STORE_POOL_SIZE is %s; want !Ref StorePoolSize", jsonOf(got))
	}
	for _, c := range []struct{ path []string }{
		{[]string{"Globals", "Function", "ReservedConcurrentExecutions"}},
		{[]string{"Resources", "ApiFunction", "Properties", "ReservedConcurrentExecutions"}},
	} {
		ifs, _ := m(m(tpl, c.path...), "Fn::If").([]any)
		if len(ifs) != 3 || !reflect.DeepEqual(ifs[2], noValue) {
			t.Errorf("%s is %s; want a parameter under a condition, and no reservation by default", strings.Join(c.path, "."), jsonOf(m(tpl, c.path...)))
		}
	}
	queue := m(tpl, "Resources", "ProvisionPartitionsFunction", "Properties", "Events", "PartitionCreatedQueue", "Properties")
	if got := m(queue, "ScalingConfig", "MaximumConcurrency"); !reflect.DeepEqual(got, ref("PartitionQueueMaxConcurrency")) {
		t.Errorf("the partition queue's ScalingConfig.MaximumConcurrency is %s; want !Ref PartitionQueueMaxConcurrency", jsonOf(got))
	}
	b, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "max_connections") {
		t.Error("template.yaml does not explain the PostgreSQL connection budget (instances x pool <= max_connections)")
	}
}

func TestTemplateYAMLPartitionEvents(t *testing.T) {
	tpl := cfnTemplate(t)
	dlq := getAtt("PartitionCreatedDeadLetterQueue", "Arn")
	props := m(tpl, "Resources", "ProvisionPartitionsFunction", "Properties")
	rule := m(props, "Events", "PartitionCreatedEvent", "Properties")
	if got := m(rule, "Pattern", "source"); !reflect.DeepEqual(got, []any{ref("PartitionEventSource")}) {
		t.Errorf("the EventBridge rule takes source %s; want [!Ref PartitionEventSource] only", jsonOf(got))
	}
	if got := m(rule, "DeadLetterConfig", "Arn"); !reflect.DeepEqual(got, dlq) {
		t.Errorf("the EventBridge rule's DeadLetterConfig is %s; want the dead-letter queue", jsonOf(got))
	}
	if got := m(props, "EventInvokeConfig", "DestinationConfig", "OnFailure", "Destination"); !reflect.DeepEqual(got, dlq) {
		t.Errorf("failed asynchronous invocations go to %s; want the dead-letter queue", jsonOf(got))
	}
	// Someone must be able to announce partitions, and only that.
	var send, put bool
	for _, id := range resourcesOfType(tpl, "AWS::IAM::ManagedPolicy") {
		for _, st := range m(tpl, "Resources", id, "Properties", "PolicyDocument", "Statement").([]any) {
			switch m(st, "Action") {
			case "sqs:SendMessage":
				send = send || reflect.DeepEqual(m(st, "Resource"), getAtt("PartitionCreatedQueue", "Arn"))
			case "events:PutEvents":
				put = put || reflect.DeepEqual(m(st, "Condition", "StringEquals", "events:source"), ref("PartitionEventSource"))
			default:
				t.Errorf("%s allows %s", id, jsonOf(m(st, "Action")))
			}
		}
	}
	if !send || !put {
		t.Errorf("no managed policy allows sqs:SendMessage to the partition queue (%v) and events:PutEvents limited to PartitionEventSource (%v)", send, put)
	}
	outputs := jsonOf(m(tpl, "Outputs"))
	for _, id := range append(resourcesOfType(tpl, "AWS::Serverless::Function"), "PartitionCreatedDeadLetterQueue", "PartitionCreatedQueue") {
		if !strings.Contains(outputs, jsonOf(ref(id))) {
			t.Errorf("no output gives %s", id)
		}
	}
}

// TestTemplateYAMLAfterTheSAMTransform lints the template as written and as
// the SAM transform expands it (scripts/sam-translate.py), and checks what only
// the expansion shows: the roles SAM would add and the resources it makes for
// the events.
func TestTemplateYAMLAfterTheSAMTransform(t *testing.T) {
	t.Parallel() // overlaps the tools' start-up with s preview's
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skipf("python3 not found; %s", cfnLintHint)
	}
	if err := exec.Command(py, "-c", "import samtranslator").Run(); err != nil {
		t.Skipf("python module samtranslator not found; %s", cfnLintHint)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(py, filepath.Join(root, "scripts", "sam-translate.py"), filepath.Join(root, "template.yaml"))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("the SAM transform failed: %v\n%s", err, stderr.String())
	}
	transformed := filepath.Join(t.TempDir(), "template.json")
	if err := os.WriteFile(transformed, stdout.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("cfn-lint", func(t *testing.T) {
		lint, err := exec.LookPath("cfn-lint")
		if err != nil {
			t.Skipf("cfn-lint not found; %s", cfnLintHint)
		}
		// One run for both files: most of cfn-lint's time is loading its specs.
		cmd := exec.Command(lint, "--", filepath.Join(root, "template.yaml"), transformed)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("cfn-lint: %v\n%s", err, b)
		}
	})

	var tpl map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &tpl); err != nil {
		t.Fatal(err)
	}
	for _, id := range resourcesOfType(tpl, "AWS::IAM::Role") {
		arns, _ := m(tpl, "Resources", id, "Properties", "ManagedPolicyArns").([]any)
		for _, a := range arns {
			if s, ok := a.(string); ok && strings.Contains(s, "AWSLambdaVPCAccessExecutionRole") {
				t.Errorf("%s carries the VPC execution policy whatever the parameters", id)
			}
		}
	}
	if got, want := len(resourcesOfType(tpl, "AWS::Lambda::Function")), len(resourcesOfType(cfnTemplate(t), "AWS::Serverless::Function")); got != want {
		t.Errorf("the transform made %d functions; want %d", got, want)
	}
	const partitions, daily = "ProvisionPartitionsFunctionPartitionCreatedEvent", "PurgeFunctionDaily"
	if rules := resourcesOfType(tpl, "AWS::Events::Rule"); !slices.Equal(rules, []string{partitions, daily}) {
		t.Fatalf("the transform made rules %v; want %s and %s", rules, partitions, daily)
	}
	targets, _ := m(tpl, "Resources", partitions, "Properties", "Targets").([]any)
	if len(targets) != 1 || m(targets[0], "DeadLetterConfig") == nil || m(targets[0], "RetryPolicy") == nil {
		t.Errorf("rule %s targets %s; want one target with a retry policy and a dead-letter queue", partitions, jsonOf(targets))
	}
	policy := jsonOf(m(tpl, "Resources", "PartitionCreatedDeadLetterQueuePolicy"))
	if !strings.Contains(policy, jsonOf(getAtt(partitions, "Arn"))) {
		t.Errorf("the dead-letter queue's policy %s does not let rule %s send to it", policy, partitions)
	}
	// The purge runs once a day, on the purge function alone.
	schedule := m(tpl, "Resources", daily, "Properties")
	targets, _ = m(schedule, "Targets").([]any)
	if m(schedule, "ScheduleExpression") != "rate(1 day)" || len(targets) != 1 || !reflect.DeepEqual(m(targets[0], "Arn"), getAtt("PurgeFunction", "Arn")) {
		t.Errorf("rule %s is %s; want rate(1 day) on PurgeFunction alone", daily, jsonOf(schedule))
	}
}

// TestTemplateYAMLOffersEverySigV4RepeatsSetting: the parameter's values are
// the ones kmsless reads, and its default keeps a signature to one use.
func TestTemplateYAMLOffersEverySigV4RepeatsSetting(t *testing.T) {
	tpl := cfnTemplate(t)
	if got := m(tpl, "Globals", "Function", "Environment", "Variables", "KMS_SIGV4_REPEATS"); !reflect.DeepEqual(got, ref("SigV4Repeats")) {
		t.Errorf("KMS_SIGV4_REPEATS is %s; want !Ref SigV4Repeats", jsonOf(got))
	}
	p := m(tpl, "Parameters", "SigV4Repeats")
	if m(p, "Default") != "refuse" {
		t.Errorf("SigV4Repeats defaults to %v; want refuse", m(p, "Default"))
	}
	values, _ := m(p, "AllowedValues").([]any)
	for _, v := range values {
		s, err := config.Read(func(k string) string {
			if k == "KMS_SIGV4_REPEATS" {
				return v.(string)
			}
			return ""
		})
		if err != nil || s.SigV4Repeats != (v == "allow") {
			t.Errorf("SigV4Repeats=%v: read as %v, %v", v, s.SigV4Repeats, err)
		}
	}
	if len(values) != 2 {
		t.Errorf("SigV4Repeats allows %v; want refuse and allow", values)
	}
}
