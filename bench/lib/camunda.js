'use strict';
/** Camunda 7 REST calls of the benchmarks (deploy, start, clean up). */
const {env} = require('./env');

async function rest(method, path, body, base = env.camundaUrl) {
  let res;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: body ? {'content-type': 'application/json'} : {},
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch (err) {
    throw new Error(
      `Camunda is not reachable at ${base} (${err.cause?.code ?? err.message}): run \`npm run services:up\` or set CAMUNDA_URL`,
    );
  }
  const text = await res.text();
  if (!res.ok) {
    throw new Error(`Camunda ${method} ${path}: ${res.status} ${text}`);
  }
  return text ? JSON.parse(text) : undefined;
}

/** A process: start → service task (topic `create-tasks`) → end. */
function createTasksBpmn(key) {
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
                  id="bench-definitions" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="${key}" name="Bench: create tasks" isExecutable="true" camunda:historyTimeToLive="1">
    <bpmn:startEvent id="start"><bpmn:outgoing>toCreate</bpmn:outgoing></bpmn:startEvent>
    <bpmn:serviceTask id="createTasks" camunda:type="external" camunda:topic="create-tasks">
      <bpmn:incoming>toCreate</bpmn:incoming><bpmn:outgoing>toEnd</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:endEvent id="end"><bpmn:incoming>toEnd</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="toCreate" sourceRef="start" targetRef="createTasks" />
    <bpmn:sequenceFlow id="toEnd" sourceRef="createTasks" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>`;
}

async function deploy(name, xml, tenantId) {
  const form = new FormData();
  form.append('deployment-name', name);
  form.append('tenant-id', tenantId);
  form.append('deployment-source', 'task-bench');
  form.append('data', new Blob([xml], {type: 'text/xml'}), `${name}.bpmn`);
  const res = await fetch(`${env.camundaUrl}/deployment/create`, {
    method: 'POST',
    body: form,
  });
  if (!res.ok) {
    throw new Error(
      `Camunda deployment failed: ${res.status} ${await res.text()}`,
    );
  }
  return res.json();
}

function start(key, tenantId, variables = {}) {
  const vars = {};
  for (const [name, value] of Object.entries(variables)) {
    vars[name] =
      typeof value === 'object'
        ? {value: JSON.stringify(value), type: 'Json'}
        : {value};
  }
  return rest(
    'POST',
    `/process-definition/key/${key}/tenant-id/${tenantId}/start`,
    {variables: vars},
  );
}

/** Deletes every deployment of the tenants, with their instances and history. */
async function removeTenants(...tenantIds) {
  const deployments = await rest(
    'GET',
    `/deployment?tenantIdIn=${tenantIds.join(',')}`,
  );
  for (const {id} of deployments) {
    await rest(
      'DELETE',
      `/deployment/${id}?cascade=true&skipCustomListeners=true`,
    );
  }
}

module.exports = {rest, createTasksBpmn, deploy, start, removeTenants};
