/** One field-level validation failure, as upstream's field.Error. */
export interface FieldError {
  /** Upstream cause reasons: FieldValueRequired, FieldValueInvalid, FieldValueNotSupported, FieldValueDuplicate, FieldValueForbidden, FieldValueTooLong, FieldValueTooMany, FieldValueTypeInvalid. */
  type:
    | 'FieldValueRequired'
    | 'FieldValueNotFound'
    | 'FieldValueInvalid'
    | 'FieldValueNotSupported'
    | 'FieldValueDuplicate'
    | 'FieldValueForbidden'
    | 'FieldValueTooLong'
    | 'FieldValueTooMany'
    | 'FieldValueTypeInvalid';
  /** Path as upstream prints it, e.g. "spec.containers[0].name", "metadata.labels". */
  field: string;
  /** The full upstream message, e.g. `Required value` or `Invalid value: "Foo": a lowercase RFC 1123 …`. */
  message: string;
}
