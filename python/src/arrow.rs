//! Arrow data in and out, through the Arrow PyCapsule interface: whatever
//! has `__arrow_c_stream__` (a pyarrow Table or RecordBatchReader, pandas,
//! polars, Hugging Face `datasets`) or `__arrow_c_array__` (a pyarrow
//! RecordBatch) is read without copying its buffers, and results go back as
//! a [`PyBatch`], which pyarrow takes with `pyarrow.record_batch(obj)`.

use std::ffi::{CStr, CString};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema, from_ffi, to_ffi};
use arrow_array::ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader};
use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchReader, StructArray};
use arrow_schema::{DataType, Field, Schema};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyTuple};

fn arrow_err(e: arrow_schema::ArrowError) -> PyErr {
    PyValueError::new_err(format!("Arrow data: {e}"))
}

/// The pointer a capsule holds, checked against the name the interface
/// gives it.
fn capsule_pointer(obj: &Bound<'_, PyAny>, name: &CStr) -> PyResult<*mut std::ffi::c_void> {
    let capsule = obj
        .cast::<PyCapsule>()
        .map_err(|_| PyTypeError::new_err(format!("expected a {} capsule", name.to_string_lossy())))?;
    Ok(capsule.pointer_checked(Some(name))?.as_ptr())
}

/// Every record batch of `obj`, in order, sharing its buffers.
pub(crate) fn import_batches(obj: &Bound<'_, PyAny>) -> PyResult<(Arc<Schema>, Vec<RecordBatch>)> {
    if obj.hasattr("__arrow_c_stream__")? {
        let capsule = obj.call_method0("__arrow_c_stream__")?;
        let ptr = capsule_pointer(&capsule, c"arrow_array_stream")?.cast::<FFI_ArrowArrayStream>();
        // SAFETY: the capsule holds a valid stream per the interface; the
        // reader moves it out, leaving a released one for the capsule's
        // destructor.
        let reader = unsafe { RecordBatchStreamReader::from_raw(ptr) }.map_err(arrow_err)?;
        let schema = reader.schema();
        let batches = reader.collect::<Result<Vec<_>, _>>().map_err(arrow_err)?;
        return Ok((schema, batches));
    }
    if obj.hasattr("__arrow_c_array__")? {
        let pair = obj.call_method0("__arrow_c_array__")?;
        let pair =
            pair.cast::<PyTuple>().map_err(|_| PyTypeError::new_err("__arrow_c_array__ gave no tuple"))?;
        let schema_ptr = capsule_pointer(&pair.get_item(0)?, c"arrow_schema")?.cast::<FFI_ArrowSchema>();
        let array_ptr = capsule_pointer(&pair.get_item(1)?, c"arrow_array")?.cast::<FFI_ArrowArray>();
        // SAFETY: as above; the schema is only borrowed, the array moved.
        let data = unsafe {
            let array = FFI_ArrowArray::from_raw(array_ptr);
            from_ffi(array, &*schema_ptr)
        }
        .map_err(arrow_err)?;
        let array = StructArray::from(data);
        let batch = RecordBatch::from(array);
        return Ok((batch.schema(), vec![batch]));
    }
    Err(PyTypeError::new_err(format!(
        "expected Arrow data (an object with __arrow_c_stream__ or __arrow_c_array__: a pyarrow Table or \
         RecordBatch, a pandas or polars DataFrame, a datasets.Dataset's data), got {}",
        obj.get_type().name()?
    )))
}

/// One column of `batch` by name.
pub(crate) fn column<'a>(batch: &'a RecordBatch, name: &str) -> PyResult<&'a ArrayRef> {
    batch.column_by_name(name).ok_or_else(|| {
        let names: Vec<&str> = batch.schema_ref().fields().iter().map(|f| f.name().as_str()).collect();
        PyValueError::new_err(format!("no column {name:?}; the columns are {names:?}"))
    })
}

/// The strings of a string column (`None` for a null), borrowed.
pub(crate) fn strings<'a>(col: &'a ArrayRef, name: &str) -> PyResult<Vec<Option<&'a str>>> {
    Ok(match col.data_type() {
        DataType::Utf8 => col.as_string::<i32>().iter().collect(),
        DataType::LargeUtf8 => col.as_string::<i64>().iter().collect(),
        DataType::Utf8View => col.as_string_view().iter().collect(),
        other => {
            return Err(PyTypeError::new_err(format!("column {name:?} holds {other}, not strings")));
        }
    })
}

/// The bytes of a binary column (`None` for a null), borrowed.
pub(crate) fn binaries<'a>(col: &'a ArrayRef, name: &str) -> PyResult<Vec<Option<&'a [u8]>>> {
    Ok(match col.data_type() {
        DataType::Binary => col.as_binary::<i32>().iter().collect(),
        DataType::LargeBinary => col.as_binary::<i64>().iter().collect(),
        DataType::BinaryView => col.as_binary_view().iter().collect(),
        other => return Err(PyTypeError::new_err(format!("column {name:?} holds {other}, not bytes"))),
    })
}

/// The values of an integer column as i64 (a null is an error).
pub(crate) fn ints(col: &ArrayRef, name: &str) -> PyResult<Vec<i64>> {
    use arrow_array::types::*;
    if col.null_count() > 0 {
        return Err(PyValueError::new_err(format!("column {name:?} holds nulls")));
    }
    Ok(match col.data_type() {
        DataType::Int64 => col.as_primitive::<Int64Type>().values().to_vec(),
        DataType::Int32 => col.as_primitive::<Int32Type>().values().iter().map(|&v| i64::from(v)).collect(),
        DataType::Int16 => col.as_primitive::<Int16Type>().values().iter().map(|&v| i64::from(v)).collect(),
        DataType::Int8 => col.as_primitive::<Int8Type>().values().iter().map(|&v| i64::from(v)).collect(),
        DataType::UInt32 => col.as_primitive::<UInt32Type>().values().iter().map(|&v| i64::from(v)).collect(),
        DataType::UInt64 => col
            .as_primitive::<UInt64Type>()
            .values()
            .iter()
            .map(|&v| {
                i64::try_from(v)
                    .map_err(|_| PyValueError::new_err(format!("column {name:?}: {v} is too large")))
            })
            .collect::<PyResult<_>>()?,
        other => return Err(PyTypeError::new_err(format!("column {name:?} holds {other}, not integers"))),
    })
}

/// A record batch made here, handed to Python through
/// `__arrow_c_array__` (`pyarrow.record_batch(obj)` takes it).
#[pyclass(module = "neardup._neardup", name = "ArrowBatch", frozen)]
pub(crate) struct PyBatch {
    batch: RecordBatch,
}

impl PyBatch {
    /// A batch of `columns`, named.
    pub(crate) fn new(columns: Vec<(&str, ArrayRef)>) -> PyResult<PyBatch> {
        let fields: Vec<Field> =
            columns.iter().map(|(n, a)| Field::new(*n, a.data_type().clone(), a.null_count() > 0)).collect();
        let arrays = columns.into_iter().map(|(_, a)| a).collect();
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).map_err(arrow_err)?;
        Ok(PyBatch { batch })
    }
}

#[pymethods]
impl PyBatch {
    /// The Arrow PyCapsule interface: (schema, array) capsules.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_array__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<(Bound<'py, PyCapsule>, Bound<'py, PyCapsule>)> {
        let _ = requested_schema;
        let data = StructArray::from(self.batch.clone()).into_data();
        let (array, schema) = to_ffi(&data).map_err(arrow_err)?;
        let schema = PyCapsule::new(py, schema, Some(CString::new("arrow_schema").expect("no NUL")))?;
        let array = PyCapsule::new(py, array, Some(CString::new("arrow_array").expect("no NUL")))?;
        Ok((schema, array))
    }

    /// Rows in the batch.
    fn __len__(&self) -> usize {
        self.batch.num_rows()
    }
}
