import type { ReactNode } from 'react';

/**
 * Form controls with a visible label, the problem under the control (tied to it with
 * aria-describedby and aria-invalid), and `name` set so the first invalid one can take the focus.
 */

function FieldError({ id, message }: { id: string; message: string | undefined }) {
  if (!message) return null;
  return (
    <div className="field-error" id={id}>
      {message}
    </div>
  );
}

export function TextField(props: {
  id: string;
  label: string;
  value: string;
  onChange(value: string): void;
  error?: string;
  hint?: string;
  inputMode?: 'numeric' | 'decimal' | 'text';
  multiline?: boolean;
  disabled?: boolean;
}) {
  const describedBy = [props.hint ? `${props.id}-hint` : '', props.error ? `${props.id}-error` : '']
    .filter(Boolean)
    .join(' ');
  const common = {
    id: props.id,
    name: props.id,
    value: props.value,
    disabled: props.disabled,
    'aria-invalid': props.error ? true : undefined,
    'aria-describedby': describedBy || undefined,
  };
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      {props.hint && (
        <div className="hint" id={`${props.id}-hint`}>
          {props.hint}
        </div>
      )}
      {props.multiline ? (
        <textarea {...common} onChange={(event) => props.onChange(event.target.value)} />
      ) : (
        <input
          {...common}
          type="text"
          inputMode={props.inputMode ?? 'text'}
          autoComplete="off"
          onChange={(event) => props.onChange(event.target.value)}
        />
      )}
      <FieldError id={`${props.id}-error`} message={props.error} />
    </div>
  );
}

/** Radio buttons (one of) or checkboxes (some of) in a fieldset whose legend is the question. */
export function ChoiceField(props: {
  id: string;
  legend: ReactNode;
  options: readonly string[];
  labels: Record<string, string>;
  multiple?: boolean;
  value: string | string[];
  onChange(value: string | string[]): void;
  error?: string;
  disabled?: boolean;
}) {
  const selected = Array.isArray(props.value) ? props.value : [props.value];
  const toggle = (option: string) => {
    if (!props.multiple) return props.onChange(option);
    props.onChange(
      selected.includes(option) ? selected.filter((item) => item !== option) : [...selected, option],
    );
  };
  return (
    <fieldset className="field" aria-describedby={props.error ? `${props.id}-error` : undefined}>
      <legend>{props.legend}</legend>
      <div className="choices">
        {props.options.map((option, index) => (
          <label key={option} className="choice">
            <input
              type={props.multiple ? 'checkbox' : 'radio'}
              name={props.id}
              id={index === 0 ? props.id : undefined}
              value={option}
              checked={selected.includes(option)}
              disabled={props.disabled}
              onChange={() => toggle(option)}
            />
            <span>{props.labels[option] ?? option}</span>
          </label>
        ))}
      </div>
      <FieldError id={`${props.id}-error`} message={props.error} />
    </fieldset>
  );
}

/** Moves the focus to the first control named in `fields` order that has a problem. */
export function focusFirst(form: HTMLFormElement | null, order: readonly string[], errors: object): void {
  const first = order.find((name) => (errors as Record<string, unknown>)[name]);
  if (!first || !form) return;
  const control = form.querySelector<HTMLElement>(`[name="${first}"]`);
  control?.focus();
  control?.scrollIntoView({ block: 'center' });
}
