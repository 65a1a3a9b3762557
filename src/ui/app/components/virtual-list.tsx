// A list that renders only the rows in view (fixed row height), so 10,000 nodes cost as much as 30.
import type { JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";

export function VirtualList<T>(props: {
  items: readonly T[];
  rowHeight: number;
  height: number;
  renderRow: (item: T, index: number) => JSX.Element;
  label: string;
  /** Index to keep in view (the selected row). */
  focusIndex?: number;
  onKey?: (e: KeyboardEvent) => void;
}): JSX.Element {
  const ref = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const { items, rowHeight, height } = props;
  useEffect(() => {
    const el = ref.current;
    if (!el || props.focusIndex === undefined || props.focusIndex < 0) return;
    const top = props.focusIndex * rowHeight;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + rowHeight > el.scrollTop + height) el.scrollTop = top + rowHeight - height;
  }, [props.focusIndex, rowHeight, height]);
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - 5);
  const last = Math.min(items.length, Math.ceil((scrollTop + height) / rowHeight) + 5);
  const rows: JSX.Element[] = [];
  for (let i = first; i < last; i++) {
    rows.push(
      <div
        key={i}
        class="vrow"
        role="listitem"
        style={{ top: `${i * rowHeight}px`, height: `${rowHeight}px` }}
      >
        {props.renderRow(items[i] as T, i)}
      </div>,
    );
  }
  return (
    <div
      ref={ref}
      class="vlist"
      role="list"
      aria-label={props.label}
      tabIndex={0}
      style={{ height: `${height}px` }}
      onScroll={(e) => setScrollTop((e.currentTarget as HTMLDivElement).scrollTop)}
      onKeyDown={props.onKey}
    >
      <div style={{ height: `${items.length * rowHeight}px`, position: "relative" }}>{rows}</div>
    </div>
  );
}
