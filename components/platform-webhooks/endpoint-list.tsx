"use client";

import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { toast } from "sonner";

import { Card } from "@/components/ui/card";
import { formatDateTimeUtc } from "@/components/ui/date-time";
import { EmptyState } from "@/components/ui/empty-state";
import { Badge } from "@/components/ui/status-badge";
import { ApiError } from "@/lib/http/client";
import { DEFAULT_GRACE_HOURS } from "@/lib/platform-webhooks/endpoint-schemas";
import { PLATFORM_EVENT_TYPES } from "@/lib/platform-webhooks/event-types";
import type { TPlatformEndpointItem } from "@/lib/platform-webhooks/list-platform-webhooks";
import { createEndpointRequest, rotateSecretRequest, updateEndpointRequest } from "@/lib/platform-webhooks/platform-webhooks-query";

function message(error: unknown): string {
  return error instanceof ApiError || error instanceof Error ? error.message : "The request failed.";
}

/** A secret shown once, after it was made. */
function SecretOnce({ secret, onDone }: { secret: string; onDone: () => void }) {
  return (
    <div role="status" className="space-y-2 rounded-lg border border-amber-300 bg-amber-50 p-3 text-sm">
      <p className="font-medium text-amber-900">Copy this signing secret now: it is not shown again.</p>
      <code className="block font-mono text-xs break-all text-gray-900" data-testid="platform-webhook-secret">
        {secret}
      </code>
      <button type="button" className="rounded-md border border-gray-300 bg-white px-2 py-1 text-xs" onClick={onDone}>
        I have stored it
      </button>
    </div>
  );
}

function NewEndpointForm({ onSecret }: { onSecret: (secret: string) => void }) {
  const router = useRouter();
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const [types, setTypes] = useState<string[]>([]);
  const create = useMutation({
    mutationFn: () => createEndpointRequest({ url, ...(description ? { description } : {}), eventTypes: types }),
    onSuccess: ({ secret }) => {
      onSecret(secret);
      setUrl("");
      setDescription("");
      setTypes([]);
      toast.success("Endpoint added.");
      router.refresh();
    },
    onError: (error) => toast.error(message(error)),
  });
  return (
    <form
      className="space-y-3 border-t border-gray-100 px-4 py-3 sm:px-5"
      onSubmit={(e) => {
        e.preventDefault();
        create.mutate();
      }}
    >
      <div className="grid gap-3 sm:grid-cols-2">
        <label className="text-xs text-gray-600">
          URL (http or https)
          <input
            required
            type="url"
            value={url}
            onChange={(e) => setUrl(e.target.value)}
            placeholder="https://platform.example.com/webhooks/payouts"
            className="mt-1 block w-full rounded-md border border-gray-300 px-2 py-1.5 text-sm"
          />
        </label>
        <label className="text-xs text-gray-600">
          Description (optional)
          <input
            value={description}
            onChange={(e) => setDescription(e.target.value)}
            maxLength={255}
            className="mt-1 block w-full rounded-md border border-gray-300 px-2 py-1.5 text-sm"
          />
        </label>
      </div>
      <fieldset className="text-xs text-gray-600">
        <legend>Events (none ticked: all of them)</legend>
        <div className="mt-1 flex flex-wrap gap-x-4 gap-y-1">
          {PLATFORM_EVENT_TYPES.map((type) => (
            <label key={type} className="inline-flex items-center gap-1 font-mono">
              <input
                type="checkbox"
                checked={types.includes(type)}
                onChange={(e) => setTypes(e.target.checked ? [...types, type] : types.filter((t) => t !== type))}
              />
              {type}
            </label>
          ))}
        </div>
      </fieldset>
      <button
        type="submit"
        disabled={create.isPending}
        className="rounded-md bg-gray-900 px-3 py-1.5 text-sm text-white disabled:opacity-50"
      >
        Add endpoint
      </button>
    </form>
  );
}

function EndpointActions({ endpoint, onSecret }: { endpoint: TPlatformEndpointItem; onSecret: (secret: string) => void }) {
  const router = useRouter();
  const toggle = useMutation({
    mutationFn: () => updateEndpointRequest(endpoint.id, { enabled: !endpoint.enabled }),
    onSuccess: () => {
      toast.success(endpoint.enabled ? "Endpoint disabled." : "Endpoint enabled.");
      router.refresh();
    },
    onError: (error) => toast.error(message(error)),
  });
  const rotate = useMutation({
    mutationFn: () => rotateSecretRequest(endpoint.id, { graceHours: DEFAULT_GRACE_HOURS }),
    onSuccess: ({ secret, previousExpireAt }) => {
      onSecret(secret);
      toast.success(`Secret rotated; the previous one signs too until ${formatDateTimeUtc(previousExpireAt)}.`);
      router.refresh();
    },
    onError: (error) => toast.error(message(error)),
  });
  if (endpoint.source === "config") return <span className="text-xs text-gray-500">Set in the configuration</span>;
  return (
    <div className="flex gap-2">
      <button
        type="button"
        className="rounded-md border border-gray-300 px-2 py-1 text-xs"
        disabled={rotate.isPending}
        onClick={() => {
          if (window.confirm(`Rotate the secret? The current one keeps signing for ${DEFAULT_GRACE_HOURS} hours.`)) rotate.mutate();
        }}
      >
        Rotate secret
      </button>
      <button
        type="button"
        className="rounded-md border border-gray-300 px-2 py-1 text-xs"
        disabled={toggle.isPending}
        onClick={() => toggle.mutate()}
      >
        {endpoint.enabled ? "Disable" : "Enable"}
      </button>
    </div>
  );
}

/** The booking platform's endpoints; admins add, rotate and disable them. */
export function EndpointList({ endpoints, canManage }: { endpoints: TPlatformEndpointItem[]; canManage: boolean }) {
  const [secret, setSecret] = useState<string | null>(null);
  return (
    <Card
      title="Endpoints"
      description="Each delivery is signed with the endpoint's secret(s): webhook-id, webhook-timestamp, webhook-signature."
    >
      {secret ? (
        <div className="px-4 py-3 sm:px-5">
          <SecretOnce secret={secret} onDone={() => setSecret(null)} />
        </div>
      ) : null}
      {endpoints.length === 0 ? (
        <EmptyState title="No endpoints" description="Add one below, or set PLATFORM_WEBHOOK_URL and PLATFORM_WEBHOOK_SECRET." />
      ) : (
        <ul className="divide-y divide-gray-100">
          {endpoints.map((endpoint) => (
            <li key={endpoint.id} className="flex flex-wrap items-start justify-between gap-3 px-4 py-3 text-sm sm:px-5">
              <div className="min-w-0 space-y-1">
                <div className="font-mono text-xs break-all text-gray-900">{endpoint.url}</div>
                <div className="flex flex-wrap items-center gap-2 text-xs text-gray-600">
                  <Badge tone={endpoint.enabled ? "success" : "neutral"}>{endpoint.enabled ? "Enabled" : "Disabled"}</Badge>
                  {endpoint.source === "config" ? <Badge tone="info">Configuration</Badge> : null}
                  <span>{endpoint.eventTypes.length === 0 ? "All events" : endpoint.eventTypes.join(", ")}</span>
                  {endpoint.description ? <span>· {endpoint.description}</span> : null}
                </div>
                {endpoint.source === "admin" ? (
                  <div className="text-xs text-gray-500">
                    {endpoint.secrets.length > 1
                      ? `${endpoint.secrets.length} secrets signing (rotation: the previous until ${formatDateTimeUtc(
                          endpoint.secrets.find((s) => s.expiresAt)?.expiresAt ?? endpoint.createdAt,
                        )})`
                      : `Secret since ${formatDateTimeUtc(endpoint.secrets[0]?.createdAt ?? endpoint.createdAt)}`}
                  </div>
                ) : null}
              </div>
              {canManage ? <EndpointActions endpoint={endpoint} onSecret={setSecret} /> : null}
            </li>
          ))}
        </ul>
      )}
      {canManage ? <NewEndpointForm onSecret={setSecret} /> : null}
    </Card>
  );
}
