"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { toast } from "sonner";

import { alertKeys } from "@/lib/alerts/alerts-query";
import { sendJson } from "@/lib/http/client";
import type { TNotificationSetup } from "@/lib/notifications/config";
import type { TTestNotificationResult } from "@/lib/notifications/send-test-notification";

/** Where alerts are sent (or that they are not), and an admin's "send a test message". */
export function NotificationSetup({ setup, canSendTest }: { setup: TNotificationSetup; canSendTest: boolean }) {
  const queryClient = useQueryClient();
  const test = useMutation({
    mutationFn: () => sendJson<TTestNotificationResult>("/api/admin/alerts/test-message", {}),
    onSuccess: async (result) => {
      for (const r of result.results) {
        const channel = r.channel === "email" ? "Email" : "Chat";
        if (r.status === "sent") toast.success(`${channel}: test message sent.`);
        else toast.error(`${channel}: the test message was not sent${r.error ? `: ${r.error}` : "."}`);
      }
      await queryClient.invalidateQueries({ queryKey: alertKeys.lists() });
    },
    onError: (error) => {
      toast.error(error instanceof Error ? error.message : "The test message could not be sent.");
    },
  });
  if (!setup.configured) {
    return (
      <p className="rounded-md border border-gray-200 bg-gray-50 px-3 py-2 text-sm text-gray-600" data-testid="notifications-off">
        Notifications are not configured: alerts are only shown here. Set <code>SMTP_URL</code> (with <code>ALERT_EMAIL_FROM</code> and{" "}
        <code>ALERT_EMAIL_TO</code>) or <code>ALERT_CHAT_WEBHOOK_URL</code> to send them.
      </p>
    );
  }
  return (
    <div
      className="flex flex-wrap items-center justify-between gap-3 rounded-md border border-gray-200 bg-white px-3 py-2 text-sm text-gray-600"
      data-testid="notifications-on"
    >
      <p>
        Critical alerts are sent at once, warnings in a digest
        {setup.email ? (
          <>
            {" "}
            · email to <span className="font-medium text-gray-900">{setup.email.to.join(", ")}</span>
          </>
        ) : null}
        {setup.chat ? (
          <>
            {" "}
            · chat webhook at <span className="font-medium text-gray-900">{setup.chat.host}</span>
          </>
        ) : null}
      </p>
      {canSendTest ? (
        <button
          type="button"
          disabled={test.isPending}
          onClick={() => test.mutate()}
          className="rounded-md border border-gray-300 bg-white px-2.5 py-1 text-xs font-medium whitespace-nowrap text-gray-700 shadow-xs hover:bg-gray-50 disabled:opacity-60"
        >
          {test.isPending ? "Sending…" : "Send a test message"}
        </button>
      ) : null}
    </div>
  );
}
