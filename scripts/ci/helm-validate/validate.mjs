// Validates manifests rendered by `helm template` from helm/model-catalog.
//
//   node validate.mjs --expect=Deployment,Service,... RENDERED.yaml
//   node validate.mjs --values-comments VALUES.yaml
//
// For every manifest:
// 1. the Kubernetes API schema (kubernetes-models; the ServiceMonitor against the Prometheus
//    Operator's CRD schema, @kubernetes-models/prometheus-operator): types, required fields,
//    enums and formats;
// 2. no unknown fields: the schema validators read every field they know, so a field of the
//    manifest they never read is one the API would reject or drop (a misspelt key);
// 3. what the chart promises: non-root, read-only, no capabilities, gRPC probes on the gRPC
//    port, a termination grace above --shutdown_grace, the hub key from a mounted Secret,
//    selectors that match the pods, the set of kinds rendered (--expect).
// --values-comments checks that every value of values.yaml has a comment.
// Exits 1 listing every problem found.
import fs from 'node:fs';
import { parseAllDocuments } from 'yaml';

// apiVersion/kind -> [package, schema module] of the kinds this chart renders.
const SCHEMAS = {
  'v1/Service': ['kubernetes-models', 'IoK8sApiCoreV1Service'],
  'v1/ServiceAccount': ['kubernetes-models', 'IoK8sApiCoreV1ServiceAccount'],
  'v1/Secret': ['kubernetes-models', 'IoK8sApiCoreV1Secret'],
  'v1/PersistentVolumeClaim': ['kubernetes-models', 'IoK8sApiCoreV1PersistentVolumeClaim'],
  'v1/Pod': ['kubernetes-models', 'IoK8sApiCoreV1Pod'],
  'apps/v1/Deployment': ['kubernetes-models', 'IoK8sApiAppsV1Deployment'],
  'policy/v1/PodDisruptionBudget': ['kubernetes-models', 'IoK8sApiPolicyV1PodDisruptionBudget'],
  'autoscaling/v2/HorizontalPodAutoscaler': ['kubernetes-models', 'IoK8sApiAutoscalingV2HorizontalPodAutoscaler'],
  'networking.k8s.io/v1/NetworkPolicy': ['kubernetes-models', 'IoK8sApiNetworkingV1NetworkPolicy'],
  'monitoring.coreos.com/v1/ServiceMonitor': [
    '@kubernetes-models/prometheus-operator',
    'ComGithubPrometheusOperatorPrometheusOperatorPkgApisMonitoringV1ServiceMonitor'],
};

const problems = [];
const problem = (where, message) => problems.push(`${where}: ${message}`);

// Wraps `obj` so that every own property read is recorded in `seen` by its path.
function tracked(obj, seen, path = '') {
  if (obj === null || typeof obj !== 'object') return obj;
  return new Proxy(obj, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof key !== 'string' || !Object.prototype.hasOwnProperty.call(target, key)) return value;
      const p = `${path}/${key}`;
      seen.add(p);
      return tracked(value, seen, p);
    },
  });
}

// Paths of `obj` that were never read.
function unread(obj, seen, path = '', out = []) {
  if (obj === null || typeof obj !== 'object') return out;
  for (const key of Object.keys(obj)) {
    const p = `${path}/${key}`;
    if (!seen.has(p)) out.push(p);
    else unread(obj[key], seen, p, out);
  }
  return out;
}

async function validateSchema(doc, where) {
  const entry = SCHEMAS[`${doc.apiVersion}/${doc.kind}`];
  if (!entry) return problem(where, `no schema known for ${doc.apiVersion} ${doc.kind} (add it to SCHEMAS)`);
  // By file: not every package exports its _schemas.
  const { validate } = await import(new URL(`node_modules/${entry[0]}/_schemas/${entry[1]}.js`, import.meta.url));
  const seen = new Set();
  if (!validate(tracked(doc, seen))) {
    for (const e of validate.errors) problem(where, `schema: ${e.instancePath || '/'} ${e.keyword} ${JSON.stringify(e.params)}`);
  }
  for (const p of unread(doc, seen)) problem(where, `unknown field ${p}`);
}

// --- what the chart promises ---

const durationSeconds = (text) => {
  const m = /^(\d+)(ms|s|m|h)$/.exec(text);
  if (!m) return NaN;
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2]];
};

const matches = (selector, labels) =>
  Object.entries(selector || {}).every(([k, v]) => labels[k] === v) && Object.keys(selector || {}).length > 0;

function checkDeployment(d, where) {
  const pod = d.spec.template.spec;
  const labels = d.spec.template.metadata.labels || {};
  if (!matches(d.spec.selector.matchLabels, labels)) problem(where, 'selector does not match the pod labels');
  const psc = pod.securityContext || {};
  if (psc.runAsNonRoot !== true) problem(where, 'pod securityContext.runAsNonRoot is not true');
  if (!(Number.isInteger(psc.runAsUser) && psc.runAsUser > 0)) problem(where, 'pod runAsUser is not a non-root number');
  if (psc.seccompProfile?.type !== 'RuntimeDefault') problem(where, 'pod seccompProfile is not RuntimeDefault');
  if (pod.automountServiceAccountToken !== false) problem(where, 'the service account token is mounted');

  const [c] = pod.containers;
  if (pod.containers.length !== 1 || c.name !== 'catalog-server') problem(where, 'expected one container, catalog-server');
  const sc = c.securityContext || {};
  if (sc.readOnlyRootFilesystem !== true) problem(where, 'readOnlyRootFilesystem is not true');
  if (sc.allowPrivilegeEscalation !== false) problem(where, 'allowPrivilegeEscalation is not false');
  if (!(sc.capabilities?.drop || []).includes('ALL')) problem(where, 'capabilities do not drop ALL');
  if (sc.runAsNonRoot !== true) problem(where, 'container runAsNonRoot is not true');
  if (sc.seccompProfile?.type !== 'RuntimeDefault') problem(where, 'container seccompProfile is not RuntimeDefault');

  const env = Object.fromEntries((c.env || []).map((e) => [e.name, e]));
  if (Object.keys(env).length !== (c.env || []).length) problem(where, 'an environment variable is set twice');
  if (env.OXEN_API_KEY?.value) problem(where, 'the hub key is in the pod spec');
  const ports = Object.fromEntries((c.ports || []).map((p) => [p.name, p.containerPort]));
  if (!ports.grpc || !ports.http || !ports.metrics) problem(where, 'container ports grpc, http and metrics are not all named');
  if (env.MODEL_CATALOG_LISTEN?.value !== `0.0.0.0:${ports.grpc}`) problem(where, 'MODEL_CATALOG_LISTEN is not the grpc port');
  if (env.MODEL_CATALOG_METRICS_LISTEN?.value !== `0.0.0.0:${ports.metrics}`) problem(where, 'MODEL_CATALOG_METRICS_LISTEN is not the metrics port');
  if (env.MODEL_CATALOG_HTTP_LISTEN?.value !== `0.0.0.0:${ports.http}`) problem(where, 'MODEL_CATALOG_HTTP_LISTEN is not the http port');

  const tls = Boolean(env.MODEL_CATALOG_TLS_CERT);
  for (const name of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
    const probe = c[name];
    if (!probe) { problem(where, `no ${name}`); continue; }
    if (tls) {
      if (probe.tcpSocket?.port !== 'grpc') problem(where, `${name}: with TLS, expected tcpSocket on grpc`);
    } else if (probe.grpc?.port !== ports.grpc) {
      problem(where, `${name}: expected a gRPC probe on port ${ports.grpc}`);
    }
  }

  const grace = durationSeconds(env.MODEL_CATALOG_SHUTDOWN_GRACE?.value || '10s');
  const preStop = c.lifecycle?.preStop?.sleep?.seconds || 0;
  if (!(pod.terminationGracePeriodSeconds > grace + preStop)) {
    problem(where, `terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} <= shutdown grace ${grace}s + preStop ${preStop}s`);
  }

  const mounts = c.volumeMounts || [];
  const volumes = Object.fromEntries((pod.volumes || []).map((v) => [v.name, v]));
  const mountOf = (file) => mounts.find((m) => file.startsWith(`${m.mountPath}/`));
  for (const m of mounts) if (!volumes[m.name]) problem(where, `volumeMount ${m.name} has no volume`);
  const keyFile = env.MODEL_CATALOG_HUB_API_KEY_FILE?.value;
  if (keyFile) {
    const m = mountOf(keyFile);
    if (!m || !volumes[m.name]?.secret || m.readOnly !== true) problem(where, 'the hub key file is not in a read-only Secret mount');
  }
  // Secrets only as files from read-only Secret mounts, never as values in the spec.
  for (const e of c.env || []) {
    if (!/KEY|SECRET|TOKEN|PASSWORD/.test(e.name) || e.value === undefined) continue;
    const m = e.value.startsWith('/') && mountOf(e.value);
    if (!m || !volumes[m.name]?.secret || m.readOnly !== true) problem(where, `${e.name} is not a file in a read-only Secret mount`);
  }
  const snapshot = env.MODEL_CATALOG_SNAPSHOT_PATH?.value;
  if (snapshot && !mountOf(snapshot)) problem(where, 'the snapshot path is on the read-only root filesystem');
  for (const t of pod.topologySpreadConstraints || []) {
    if (!matches(t.labelSelector?.matchLabels, labels)) problem(where, `topology spread on ${t.topologyKey} does not select the pods`);
  }
  return labels;
}

function checkAgainstPods(doc, where, podLabels, deploymentName) {
  switch (doc.kind) {
    case 'Service': {
      if (!matches(doc.spec.selector, podLabels)) problem(where, 'selector does not match the pods');
      const grpc = doc.spec.ports.find((p) => p.name === 'grpc');
      if (!grpc || grpc.appProtocol !== 'grpc' || grpc.targetPort !== 'grpc') problem(where, 'no port grpc (appProtocol grpc, targetPort grpc)');
      if (doc.spec.clusterIP !== 'None' && !doc.spec.ports.some((p) => p.name === 'metrics')) problem(where, 'no port metrics');
      if (doc.spec.clusterIP !== 'None' && !doc.spec.ports.some((p) => p.name === 'http')) problem(where, 'no port http');
      break;
    }
    case 'PodDisruptionBudget':
    case 'ServiceMonitor':
      if (!matches(doc.spec.selector.matchLabels, podLabels)) problem(where, 'selector does not match the pods');
      break;
    case 'NetworkPolicy':
      if (!matches(doc.spec.podSelector.matchLabels, podLabels)) problem(where, 'podSelector does not match the pods');
      break;
    case 'HorizontalPodAutoscaler':
      if (doc.spec.scaleTargetRef.name !== deploymentName) problem(where, 'scaleTargetRef is not the Deployment');
      break;
    default:
  }
}

async function validateRendering(file, expectedKinds) {
  const docs = parseAllDocuments(fs.readFileSync(file, 'utf8'));
  const manifests = [];
  for (const d of docs) {
    if (d.errors.length) { problem(file, `YAML: ${d.errors[0].message}`); continue; }
    const obj = d.toJS();
    if (obj) manifests.push(obj);
  }
  const kinds = manifests.map((m) => m.kind).sort();
  if (expectedKinds && JSON.stringify(kinds) !== JSON.stringify([...expectedKinds].sort())) {
    problem(file, `rendered kinds ${kinds.join(',')}; expected ${[...expectedKinds].sort().join(',')}`);
  }
  for (const m of manifests) {
    const where = `${file}: ${m.kind}/${m.metadata?.name}`;
    await validateSchema(m, where);
    const labels = m.metadata?.labels || {};
    if (!labels['app.kubernetes.io/name'] || !labels['app.kubernetes.io/instance']) problem(where, 'missing app.kubernetes.io labels');
  }
  const deployment = manifests.find((m) => m.kind === 'Deployment');
  if (!deployment) return problem(file, 'no Deployment');
  const podLabels = checkDeployment(deployment, `${file}: Deployment/${deployment.metadata.name}`);
  for (const m of manifests) checkAgainstPods(m, `${file}: ${m.kind}/${m.metadata.name}`, podLabels, deployment.metadata.name);
  console.log(`validate: ${file}: ${manifests.length} manifests (${kinds.join(', ')})`);
}

// Every key of values.yaml has a comment line right above it, or is part of a block given to
// Kubernetes as is (a security context, probe, resources...) whose own key is commented.
function checkValuesComments(file) {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const verbatim = new Set(['podSecurityContext', 'securityContext', 'resources', 'startupProbe',
    'livenessProbe', 'readinessProbe', 'topologySpreadConstraints']);
  let verbatimIndent = -1;
  let count = 0;
  lines.forEach((line, i) => {
    const m = /^(\s*)([A-Za-z_][\w]*):/.exec(line);
    if (!m) return;
    const indent = m[1].length;
    if (verbatimIndent >= 0 && indent > verbatimIndent) return;
    verbatimIndent = verbatim.has(m[2]) ? indent : -1;
    count += 1;
    let j = i - 1;
    while (j >= 0 && lines[j].trim() === '') j -= 1;
    const above = j >= 0 ? lines[j].trim() : '';
    if (!above.startsWith('#')) problem(`${file}:${i + 1}`, `value ${m[2]} has no comment`);
  });
  console.log(`validate: ${file}: ${count} values checked for comments`);
}

const args = process.argv.slice(2);
if (args[0] === '--values-comments') {
  for (const f of args.slice(1)) checkValuesComments(f);
} else {
  let expected = null;
  for (const a of args) {
    if (a.startsWith('--expect=')) expected = a.slice('--expect='.length).split(',').filter(Boolean);
    else await validateRendering(a, expected);
  }
}
if (problems.length) {
  for (const p of problems) console.error(`validate: ${p}`);
  process.exit(1);
}
