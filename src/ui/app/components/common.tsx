// Small shared pieces: phase badge, confirmation dialog, error banner, async loading.
import type { ComponentChildren, JSX } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "../api.js";
import { phaseClass, phaseIcon } from "../phase.js";

export function PhaseBadge(props: { phase: string | undefined; label?: string }): JSX.Element {
  const phase = props.phase || "Pending";
  return (
    <span class={`phase ${phaseClass(phase)}`} title={phase}>
      <span aria-hidden="true" class="phase-icon">
        {phaseIcon(phase)}
      </span>{" "}
      {props.label ?? phase}
    </span>
  );
}

export function ErrorBanner(props: { error: unknown }): JSX.Element | null {
  if (!props.error) return null;
  const e = props.error;
  const text =
    e instanceof ApiError ? `${e.status}: ${e.message}` : e instanceof Error ? e.message : String(e);
  return (
    <div class="error" role="alert">
      {text}
    </div>
  );
}

/** Loads once per `deps` change; `reload()` fetches again. */
export function useLoad<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: unknown[],
): { data: T | undefined; error: unknown; reload: () => void; setData: (t: T) => void } {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const ac = new AbortController();
    setError(undefined);
    load(ac.signal).then(
      (d) => !ac.signal.aborted && setData(d),
      (e: unknown) => !ac.signal.aborted && setError(e),
    );
    return () => ac.abort();
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, reload, setData };
}

interface PendingConfirm {
  message: string;
  action: string;
  resolve: (ok: boolean) => void;
}

let showConfirm: ((p: PendingConfirm) => void) | undefined;

/** Asks the user before a destructive action; resolves true when confirmed. */
export function confirmAction(message: string, action: string): Promise<boolean> {
  return new Promise((resolve) => {
    if (!showConfirm) resolve(window.confirm(message));
    else showConfirm({ message, action, resolve });
  });
}

export function ConfirmHost(): JSX.Element | null {
  const [pending, setPending] = useState<PendingConfirm | undefined>(undefined);
  const ok = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    showConfirm = setPending;
    return () => {
      showConfirm = undefined;
    };
  }, []);
  useEffect(() => ok.current?.focus(), [pending]);
  if (!pending) return null;
  const close = (answer: boolean): void => {
    pending.resolve(answer);
    setPending(undefined);
  };
  return (
    <div class="modal-backdrop" onKeyDown={(e) => e.key === "Escape" && close(false)}>
      <div class="modal" role="alertdialog" aria-modal="true" aria-labelledby="confirm-text">
        <p id="confirm-text">{pending.message}</p>
        <div class="modal-buttons">
          <button type="button" onClick={() => close(false)}>
            Cancel
          </button>
          <button type="button" class="danger" ref={ok} onClick={() => close(true)}>
            {pending.action}
          </button>
        </div>
      </div>
    </div>
  );
}

export function Section(props: { title: string; children: ComponentChildren }): JSX.Element {
  return (
    <section class="section" aria-label={props.title}>
      <h3>{props.title}</h3>
      {props.children}
    </section>
  );
}

export function KeyValues(props: { rows: [string, ComponentChildren][] }): JSX.Element {
  return (
    <dl class="kv">
      {props.rows.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}
