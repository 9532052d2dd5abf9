/** A row of buttons choosing one of a few values (a segmented control), each with a test id `${testIdPrefix}-${value}`. */
export function Choice<T extends string>(props: {
  readonly values: readonly T[];
  readonly value: T;
  readonly label: (value: T) => string;
  readonly onChange: (value: T) => void;
  readonly testIdPrefix: string;
}) {
  return (
    <nav className="tabs flat">
      {props.values.map((value) => (
        <button type="button" key={value} className={props.value === value ? 'tab active' : 'tab'} onClick={() => { props.onChange(value); }} data-testid={`${props.testIdPrefix}-${value}`}>
          {props.label(value)}
        </button>
      ))}
    </nav>
  );
}
