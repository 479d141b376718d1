// The leader's EndpointSlice for the selector-less autoscaler Service: its shape, and the
// POD_IP values (from the downward API, or a hand-edited manifest) it refuses.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { leaderAddressOf, leaderEndpointProblem, leaderEndpointSlice, type LeaderEndpoint } from '../../../pkg/platform/kubernetes/leader-endpoints.js';

const base: LeaderEndpoint = { namespace: 'kfn-system', service: 'kfn-autoscaler', portName: 'stats', port: 8080, podName: 'kfn-autoscaler-abc', podIP: '10.1.2.3' };

describe('leader EndpointSlice', () => {
  it('names the Service by the label kube-proxy joins slices by, is not the EndpointSlice controller’s, and points at the pod', () => {
    const s = leaderEndpointSlice(base);
    assert.equal(s.metadata?.name, 'kfn-autoscaler-leader');
    assert.equal(s.metadata?.labels?.['kubernetes.io/service-name'], 'kfn-autoscaler');
    assert.notEqual(s.metadata?.labels?.['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
    assert.equal(s.addressType, 'IPv4');
    assert.deepEqual(s.ports, [{ name: 'stats', port: 8080, protocol: 'TCP' }]);
    assert.deepEqual(leaderAddressOf(s), { ip: '10.1.2.3', port: 8080 });
    assert.equal(s.endpoints?.[0]?.targetRef?.name, 'kfn-autoscaler-abc');
  });

  it('says IPv6 for an IPv6 pod', () => {
    assert.equal(leaderEndpointSlice({ ...base, podIP: 'fd00::5' }).addressType, 'IPv6');
  });

  const bad: Array<[string, Partial<LeaderEndpoint>, RegExp]> = [
    ['empty POD_IP', { podIP: '' }, /POD_IP/],
    ['a hostname', { podIP: 'kfn-autoscaler.kfn-system' }, /POD_IP/],
    ['an address with a port', { podIP: '10.1.2.3:8080' }, /POD_IP/],
    ['an unresolved downward API reference', { podIP: '$(POD_IP)' }, /POD_IP/],
    ['port 0', { port: 0 }, /port/],
    ['port 70000', { port: 70000 }, /port/],
  ];
  for (const [name, patch, want] of bad) {
    it(`refuses ${name}`, () => {
      assert.match(leaderEndpointProblem({ ...base, ...patch }) ?? '', want);
    });
  }

  it('reads no address from an emptied (withdrawn) slice', () => {
    assert.equal(leaderAddressOf({ ...leaderEndpointSlice(base), endpoints: [] }), undefined);
  });
});
