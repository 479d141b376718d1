// Where the recorder's writes go: events.k8s.io/v1 through @kubernetes/client-node. The
// recorder sees only this interface, so its tests can count writes without a server.
import { EventsV1Api, PatchStrategy, setHeaderOptions, V1MicroTime, type EventsV1Event, type KubeConfig } from '@kubernetes/client-node';
import { isNotFound } from '../errors.js';

/** The events.k8s.io/v1 Event as the recorder writes it; times are MicroTime strings. */
export interface EventBody {
  metadata: { name: string; namespace: string };
  eventTime: string;
  reportingController: string;
  reportingInstance: string;
  action: string;
  reason: string;
  type: string;
  note: string;
  regarding: { apiVersion: string; kind: string; namespace: string; name: string; uid?: string };
  series?: { count: number; lastObservedTime: string };
}

export interface EventSink {
  create(event: EventBody): Promise<void>;
  /** Writes series.count and lastObservedTime; 'gone' when the Event no longer exists (its TTL passed). */
  patchSeries(namespace: string, name: string, series: { count: number; lastObservedTime: string }): Promise<'ok' | 'gone'>;
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/**
 * client-node 1.x types MicroTime as V1MicroTime, whose toISOString adds the microsecond
 * digits; passing the instance through keeps that format on the wire (a plain Date would
 * go out with milliseconds only, which the API server's MicroTime parser refuses).
 */
function micro(s: string): V1MicroTime {
  return new V1MicroTime(s);
}

function toApi(e: EventBody): EventsV1Event {
  const { series, eventTime, ...rest } = e;
  return {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    ...rest,
    eventTime: micro(eventTime),
    ...(series ? { series: { count: series.count, lastObservedTime: micro(series.lastObservedTime) } } : {}),
  };
}

export function kubernetesEventSink(kubeConfig: KubeConfig): EventSink {
  const api = kubeConfig.makeApiClient(EventsV1Api);
  return {
    async create(e) {
      await api.createNamespacedEvent({ namespace: e.metadata.namespace, body: toApi(e) });
    },
    async patchSeries(namespace, name, series) {
      try {
        // A merge patch of the series alone: every other field of an Event is immutable.
        await api.patchNamespacedEvent({ namespace, name, body: { series: { count: series.count, lastObservedTime: micro(series.lastObservedTime) } } }, mergePatch);
        return 'ok';
      } catch (err) {
        if (isNotFound(err)) return 'gone';
        throw err;
      }
    },
  };
}
